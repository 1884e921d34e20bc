package fakeclock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duroxide-go/duroxide/fakeclock"
)

// A goroutine blocked on a timer is released by advancing the fake clock;
// no real time passes.
func ExampleFake() {
	clock := fakeclock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))

	done := make(chan time.Time)
	go func() {
		t := clock.NewTimer(5 * time.Second)
		done <- <-t.C()
	}()

	// Wait until the goroutine is actually waiting on the clock.
	if err := clock.BlockUntilWaiters(context.Background(), 1); err != nil {
		fmt.Println(err)
		return
	}
	if err := clock.Advance(5 * time.Second); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("fired at", (<-done).Format(time.RFC3339))
	fmt.Println("now", clock.Now().Format(time.RFC3339))
	// Output:
	// fired at 2024-01-01T00:00:05Z
	// now 2024-01-01T00:00:05Z
}

func ExampleFake_AdvanceToNextTimer() {
	clock := fakeclock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	lockExpiry := clock.NewTimer(30 * time.Second)
	pollTimeout := clock.NewTimer(10 * time.Second)

	for {
		moved, ok := clock.AdvanceToNextTimer()
		if !ok {
			break
		}
		select {
		case at := <-pollTimeout.C():
			fmt.Println("poll timeout after", moved, "at", at.Format(time.TimeOnly))
		case at := <-lockExpiry.C():
			fmt.Println("lock expired after", moved, "at", at.Format(time.TimeOnly))
		}
	}
	// Output:
	// poll timeout after 10s at 00:00:10
	// lock expired after 20s at 00:00:30
}

func ExampleFake_AfterFunc() {
	clock := fakeclock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	clock.AfterFunc(time.Minute, func() {
		fmt.Println("callback at", clock.Now().Format(time.TimeOnly))
	})
	_ = clock.Advance(time.Hour) // callbacks have run when Advance returns
	fmt.Println("now", clock.Now().Format(time.TimeOnly))
	// Output:
	// callback at 00:01:00
	// now 01:00:00
}

func ExampleFake_Advance_backwards() {
	clock := fakeclock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	err := clock.Advance(-time.Second)
	fmt.Println(errors.Is(err, fakeclock.ErrBackwards))
	// Output: true
}

// Production code takes a Clock; pass fakeclock.Real() outside tests.
func ExampleReal() {
	var clock fakeclock.Clock = fakeclock.Real()
	t := clock.NewTimer(time.Millisecond)
	defer t.Stop()
	<-t.C()
	fmt.Println("fired")
	// Output: fired
}
