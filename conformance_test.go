package sessions_test

import (
	"testing"
	"time"

	"github.com/fasthttp-sessions/sessions"
	"github.com/fasthttp-sessions/sessions/sessionstest"
)

func TestConformanceCookieStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			return sessions.NewCookieStore(keyPairs...)
		},
		RealClock: true,
	})
}

func TestConformanceMemoryStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := sessions.NewMemoryStore(keyPairs...)
			s.Now = now
			return s
		},
	})
}

func TestConformanceFilesystemStore(t *testing.T) {
	sessionstest.Run(t, sessionstest.Config{
		ServerSide: true,
		NewStore: func(t *testing.T, now func() time.Time, keyPairs ...[]byte) sessions.Store {
			s := sessions.NewFilesystemStore(t.TempDir(), keyPairs...)
			s.Now = now
			return s
		},
	})
}
