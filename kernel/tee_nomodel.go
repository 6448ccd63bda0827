//go:build aster_nomodel

package main

import (
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/reference"
)

// errNoModel is what aster.tee=model-* gets from a kernel built without
// the software TEE models (astctl build --no-tee-model).
var errNoModel = errors.New("this kernel was built without the software TEE models (aster_nomodel)")

func modelTDX(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	return nil, errNoModel
}

func modelSNP(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	return nil, errNoModel
}

func teeSelftest() int {
	fmt.Println("teetest: FAIL: this kernel was built without the software TEE models")
	return 1
}

func crashVirt() { fmt.Println("aster: aster.crash=ve needs the software TEE models") }

func printAccepted() {}
