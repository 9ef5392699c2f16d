package cpu

import "sync"

// Ordered runs steps handed in from several goroutines one at a time and
// in the order of their indices 0, 1, 2, ..., whatever order they arrive
// in. Floating-point addition is not associative, so a parallel
// reduction that adds each chunk's partial sum into the total as the
// chunk finishes gives different bits from run to run; handing the
// additions to an Ordered by chunk index makes the total
// ((p0 + p1) + p2) + ... every time. A goroutine whose step must wait
// does not: it leaves the step behind and goes on, and the goroutine
// that hands in the missing index runs the waiting steps after its own.
//
// The zero value is ready for indices from 0. An Ordered is for one
// sequence; each index must be handed in exactly once.
type Ordered struct {
	mu   sync.Mutex
	next int      // the index of the next step to run
	held []func() // steps handed in early, by index minus next
}

// Do hands in step i. If every step before i has run, Do runs f and then
// any later steps already handed in, in order, before it returns;
// otherwise it keeps f for the goroutine that completes the sequence up
// to i. Steps never run concurrently with each other.
func (o *Ordered) Do(i int, f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i < o.next {
		panic("cpu.Ordered: step handed in twice")
	}
	at := i - o.next
	for len(o.held) <= at {
		o.held = append(o.held, nil)
	}
	if o.held[at] != nil {
		panic("cpu.Ordered: step handed in twice")
	}
	o.held[at] = f
	for len(o.held) > 0 && o.held[0] != nil {
		step := o.held[0]
		o.held[0] = nil
		o.held = o.held[1:]
		o.next++
		step()
	}
}
