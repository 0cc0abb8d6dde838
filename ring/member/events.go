package member

import "sync"

// eventQueue delivers Config.Events calls from one goroutine, in push order.
// push never blocks, so memberlist's goroutines are never held up by the
// callback; the queue is unbounded, but it only grows by one entry per
// membership change.
type eventQueue struct {
	fn func(Member)

	mu    sync.Mutex
	items []Member

	wake chan struct{} // capacity 1: "items may be non-empty"
	stop chan struct{}
	done chan struct{}
}

func newEventQueue(fn func(Member)) *eventQueue {
	q := &eventQueue{
		fn:   fn,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go q.run()
	return q
}

func (q *eventQueue) push(m Member) {
	q.mu.Lock()
	q.items = append(q.items, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.done)
	for {
		select {
		case <-q.wake:
			q.deliver()
		case <-q.stop:
			q.deliver() // what was queued before close is still delivered
			return
		}
	}
}

func (q *eventQueue) deliver() {
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		if len(items) == 0 {
			return
		}
		for _, m := range items {
			q.fn(m)
		}
	}
}

// close delivers the events already queued, then stops the goroutine and
// waits for it.
func (q *eventQueue) close() {
	close(q.stop)
	<-q.done
}
