package bad

// #include <stdio.h>
import "C"
