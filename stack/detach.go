package stack

// Detach takes w out of the muxer it is in, if any: a zocket's Close calls it so that a closed
// zocket is never reported. It is a no-op for a waitable in no set.
func (w *Waitable) Detach() {
	if w.mux != nil {
		_ = w.mux.Del(w)
	}
}
