package stack

// SlotAdd puts z in the first free entry of a slot table (nil entries are free) and returns the
// table, grown when full. Transports keep their zockets in slot tables so that a dump walks them
// in a stable order and can resume at an index (DumpBuilder.Continue); a slot's index is the
// zocket's id in zfstackdump.
func SlotAdd[T any](tab []*T, z *T) []*T {
	for i, o := range tab {
		if o == nil {
			tab[i] = z
			return tab
		}
	}
	return append(tab, z)
}

// SlotRemove frees z's entry in a slot table.
func SlotRemove[T any](tab []*T, z *T) {
	for i, o := range tab {
		if o == z {
			tab[i] = nil
			return
		}
	}
}
