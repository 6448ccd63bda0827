package waiter

import "testing"

func TestQueueNotifiesWatchers(t *testing.T) {
	var q Queue
	a, b := make(chan struct{}, 1), make(chan struct{}, 1)
	cancelA := q.Watch(a)
	q.Watch(b)
	q.Notify()
	q.Notify() // full channels do not block Notify
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("tokens %d %d", len(a), len(b))
	}
	<-a
	<-b
	cancelA()
	q.Notify()
	if len(a) != 0 || len(b) != 1 {
		t.Fatalf("after cancel: tokens %d %d", len(a), len(b))
	}
}
