package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// readFailing is a backend whose Load of the record id fails with err
// while the rest works, and that counts the calls it gets.
type readFailing struct {
	Backend
	id             string
	err            error
	loads, deletes atomic.Int64
}

func (b *readFailing) Load(ctx context.Context, id string) ([]byte, time.Time, error) {
	b.loads.Add(1)
	if b.err != nil && id == b.id {
		return nil, time.Time{}, b.err
	}
	return b.Backend.Load(ctx, id)
}

func (b *readFailing) Delete(ctx context.Context, id string) error {
	b.deletes.Add(1)
	return b.Backend.Delete(ctx, id)
}

// TestSaveAfterUnreadableRecord checks what a Save does after the load of
// the record its cookie named failed, by the kind of failure (SECURITY.md):
// when the backend did not answer (a timeout, a lost connection), the
// record is out of reach, not unreadable: the Save fails, keeps the
// cookie and calls the backend no more (so deletes nothing, even where
// writes would pass); when it answered with an error, the record is read
// again, and deleted when it still fails, for a new session to take its
// place.
func TestSaveAfterUnreadableRecord(t *testing.T) {
	for _, c := range []struct {
		name        string
		err         error
		unreachable bool
	}{
		{"timeout", fmt.Errorf("backend: %w", context.DeadlineExceeded), true},
		{"cancelled", fmt.Errorf("backend: %w", context.Canceled), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"connection lost", fmt.Errorf("backend: %w", io.ErrUnexpectedEOF), true},
		{"EOF", fmt.Errorf("backend: %w", io.EOF), true},
		{"record of another type", errors.New("backend: WRONGTYPE"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := NewMemoryStore(testHash, testBlock)
			b := &readFailing{Backend: mem.Backend}
			mem.Backend = b
			old, cookie := saveNew(t, mem, map[any]any{"user": "alice"})
			b.id, b.err = old.ID, c.err
			ctx := requestWithCookie("sid", cookie)
			s, err := mem.New(ctx, "sid")
			if !errors.Is(err, c.err) || !s.IsNew {
				t.Fatalf("New: new=%v, %v; want a new session and %v", s.IsNew, err, c.err)
			}
			loads := b.loads.Load()
			s.Values["n"] = 1
			err = mem.Save(ctx, s)
			b.err = nil
			_, _, lerr := b.Backend.Load(context.Background(), old.ID)
			set := ctx.Response.Header.PeekCookie("sid")
			if c.unreachable {
				if !errors.Is(err, c.err) || set != nil || lerr != nil {
					t.Errorf("Save = %v, Set-Cookie %q, the record: %v; want the load's error, no cookie, the record kept", err, set, lerr)
				}
				if n, d := b.loads.Load()-loads, b.deletes.Load(); n != 0 || d != 0 {
					t.Errorf("Save called Load %d and Delete %d times, want none", n, d)
				}
				return
			}
			if err != nil || set == nil || !errors.Is(lerr, ErrRecordNotFound) {
				t.Errorf("Save = %v, Set-Cookie %q, the record: %v; want a new session with its cookie, the record deleted", err, set, lerr)
			}
		})
	}
}
