package bench

import (
	"errors"
	"testing"

	"github.com/fasthttp-sessions/sessions"
	"github.com/valyala/fasthttp"
)

// The Registry's own cost, isolated: a store that does nothing (New hands
// out one prepared session, Save only counts), called straight or through
// the Registry on the same reused RequestCtx, released after each request
// as fasthttp does. The difference between the two benchmarks is what the
// Registry adds to every request, without the codec's noise around it.

type stubStore struct {
	session *sessions.Session
	saves   int
}

func newStubStore() *stubStore {
	st := &stubStore{}
	st.session = sessions.NewSession(st, cookieName)
	st.session.IsNew = false
	st.session.Values["visits"] = startVisits
	return st
}

func (st *stubStore) Get(ctx *fasthttp.RequestCtx, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(ctx).Get(st, name)
}

func (st *stubStore) New(*fasthttp.RequestCtx, string) (*sessions.Session, error) {
	return st.session, nil
}

func (st *stubStore) Save(*fasthttp.RequestCtx, *sessions.Session) error {
	st.saves++
	return nil
}

// stubServe returns one request against st, through the Registry or not.
func stubServe(st *stubStore, registry bool) func() error {
	ctx := newRequestCtx("/")
	return func() error {
		var (
			s   *sessions.Session
			err error
		)
		if registry {
			s, err = sessions.GetRegistry(ctx).Get(st, cookieName)
		} else {
			s, err = st.New(ctx, cookieName)
		}
		if err != nil {
			return err
		}
		if s != st.session {
			return errors.New("the store's session was not returned")
		}
		if registry {
			err = sessions.Save(ctx)
		} else {
			err = st.Save(ctx, s)
		}
		ctx.Request.ResetUserValues()
		return err
	}
}

func benchStub(b *testing.B, registry bool) {
	st := newStubStore()
	serve := stubServe(st, registry)
	if err := serve(); err != nil || st.saves != 1 {
		b.Fatalf("stub request: err %v, %d saves, want 1", err, st.saves)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := serve(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStubDirect is the Registry-less baseline of BenchmarkStubRegistry.
func BenchmarkStubDirect(b *testing.B) { benchStub(b, false) }

// BenchmarkStubRegistry is GetRegistry(ctx).Get + sessions.Save + the
// release at the end of the request, around a store that does nothing.
func BenchmarkStubRegistry(b *testing.B) { benchStub(b, true) }

// TestStubRegistry checks that the stub benchmarks do what they say: the
// registry path saves the session once per request and releases the
// Registry, so the next request starts with an empty one.
func TestStubRegistry(t *testing.T) {
	for _, registry := range []bool{false, true} {
		st := newStubStore()
		serve := stubServe(st, registry)
		for i := range 3 {
			if err := serve(); err != nil {
				t.Fatal(err)
			}
			if st.saves != i+1 {
				t.Fatalf("registry=%v: %d saves after %d requests", registry, st.saves, i+1)
			}
		}
	}
}
