package main

// A minimal reader of the runtime's heap dump (GO-RUNTIME.md's record table), just enough to
// check the manifest against the dump it describes. The analyzer has the real one.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

const dumpMagic = "go1.7 heap dump\n"

type dumpObject struct {
	addr, size uint64
}

type dumpFinalizer struct {
	obj, fn, pc uint64
	queued      bool
}

type dumpGoroutine struct {
	gopc, status uint64
}

type heapDump struct {
	objects    map[uint64]dumpObject
	finalizers []dumpFinalizer
	goroutines []dumpGoroutine
	data, bss  [2]uint64 // start, end
	goVersion  string
}

type dumpReader struct {
	r   *bufio.Reader
	off int64
}

func (d *dumpReader) uvarint() (uint64, error) {
	var x uint64
	for s := uint(0); s < 64; s += 7 {
		b, err := d.r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("offset %d: %w", d.off, err)
		}
		d.off++
		x |= uint64(b&0x7f) << s
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, fmt.Errorf("offset %d: varint too long", d.off)
}

func (d *dumpReader) ints(n int) ([]uint64, error) {
	out := make([]uint64, n)
	for i := range out {
		v, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// bytes reads a length-prefixed string or memory range (up to 1 GiB).
func (d *dumpReader) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > 1<<30 {
		return nil, fmt.Errorf("offset %d: length %d", d.off, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, fmt.Errorf("offset %d: %w", d.off, err)
	}
	d.off += int64(n)
	return b, nil
}

func (d *dumpReader) fields() error {
	for {
		k, err := d.uvarint()
		if err != nil || k == 0 {
			return err
		}
		if _, err := d.uvarint(); err != nil {
			return err
		}
	}
}

func readDump(data []byte) (*heapDump, error) {
	if !bytes.HasPrefix(data, []byte(dumpMagic)) {
		return nil, errors.New("no heap dump magic")
	}
	d := &dumpReader{r: bufio.NewReader(bytes.NewReader(data[len(dumpMagic):])), off: int64(len(dumpMagic))}
	h := &heapDump{objects: map[uint64]dumpObject{}}
	for {
		tag, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		var v []uint64
		switch tag {
		case 0:
			if d.off != int64(len(data)) {
				return nil, fmt.Errorf("EOF record at %d of %d", d.off, len(data))
			}
			return h, nil
		case 1: // object
			if v, err = d.ints(1); err != nil {
				return nil, err
			}
			b, err := d.bytes()
			if err != nil {
				return nil, err
			}
			h.objects[v[0]] = dumpObject{v[0], uint64(len(b))}
			err = d.fields()
		case 2: // other root
			if _, err = d.bytes(); err == nil {
				_, err = d.uvarint()
			}
		case 3: // type
			if _, err = d.ints(2); err == nil {
				if _, err = d.bytes(); err == nil {
					_, err = d.uvarint()
				}
			}
		case 4: // goroutine
			if v, err = d.ints(8); err == nil {
				if _, err = d.bytes(); err == nil {
					_, err = d.ints(4)
				}
				h.goroutines = append(h.goroutines, dumpGoroutine{gopc: v[3], status: v[4]})
			}
		case 5: // stack frame
			if _, err = d.ints(3); err == nil {
				if _, err = d.bytes(); err == nil {
					if _, err = d.ints(3); err == nil {
						if _, err = d.bytes(); err == nil {
							err = d.fields()
						}
					}
				}
			}
		case 6: // params
			if _, err = d.ints(4); err == nil {
				if _, err = d.bytes(); err == nil {
					var ver []byte
					if ver, err = d.bytes(); err == nil {
						h.goVersion = string(ver)
						_, err = d.uvarint()
					}
				}
			}
		case 7, 11: // finalizer, queued finalizer
			if v, err = d.ints(5); err == nil {
				h.finalizers = append(h.finalizers, dumpFinalizer{v[0], v[1], v[2], tag == 11})
			}
		case 8: // itab
			_, err = d.ints(2)
		case 9: // OS thread
			_, err = d.ints(3)
		case 10: // memstats
			_, err = d.ints(24 + 256 + 1)
		case 12, 13: // data, bss
			if v, err = d.ints(1); err == nil {
				var b []byte
				if b, err = d.bytes(); err == nil {
					r := [2]uint64{v[0], v[0] + uint64(len(b))}
					if tag == 12 {
						h.data = r
					} else {
						h.bss = r
					}
					err = d.fields()
				}
			}
		case 14: // defer
			_, err = d.ints(7)
		case 15: // panic
			_, err = d.ints(6)
		case 16: // memprof bucket
			if v, err = d.ints(3); err == nil {
				for i := uint64(0); i < v[2] && err == nil; i++ {
					if _, err = d.bytes(); err == nil {
						if _, err = d.bytes(); err == nil {
							_, err = d.uvarint()
						}
					}
				}
				if err == nil {
					_, err = d.ints(2)
				}
			}
		case 17: // alloc sample
			_, err = d.ints(2)
		default:
			return nil, fmt.Errorf("offset %d: unknown record tag %d", d.off, tag)
		}
		if err != nil {
			return nil, err
		}
	}
}
