package lfauth

// LiveCalls is how many calls have C memory or a cgo.Handle not freed yet.
func LiveCalls() int64 { return liveCalls.Load() }
