package sessions

// Tests of issue 11's items that concern the core alone (the server-side
// ones run on every store through sessionstest), and of the error texts.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// A huge MaxAge is either refused or written as a date in the future, and
// a server-side record given it lives.
func TestHugeMaxAge(t *testing.T) {
	clock := &testClock{now: time.Unix(1_800_000_000, 0)}
	mem := NewMemoryStore(testHash, testBlock)
	mem.Now = clock.Now
	cookies := NewCookieStore(testHash, testBlock)
	cookies.Now = clock.Now
	for _, store := range []Store{cookies, mem} {
		for _, c := range []struct {
			age  int64 // the cases above math.MaxInt run only with a 64-bit int
			err  error
			year int
		}{
			{200 * 365 * 86400, nil, time.Unix(1_800_000_000, 0).UTC().Year() + 199},
			{int64(maxCookieAge), nil, time.Unix(1_800_000_000+int64(maxCookieAge), 0).UTC().Year()},
			{int64(maxCookieAge) + 1, ErrInvalidOptions, 0},
			{1 << 62, ErrInvalidOptions, 0},
		} {
			if c.age > math.MaxInt {
				t.Logf("MaxAge %d skipped: an int has %d bits", c.age, strconv.IntSize)
				continue
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, nil, nil)
			s, _ := store.New(&ctx, "sid")
			s.Values["user"] = "alice"
			s.Options.MaxAge = int(c.age)
			err := s.Save(&ctx)
			set := string(ctx.Response.Header.PeekCookie("sid"))
			if c.err != nil {
				if !errors.Is(err, c.err) || set != "" {
					t.Errorf("%T MaxAge %d: Save = %v, Set-Cookie %q; want %v and no cookie", store, c.age, err, set, c.err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%T MaxAge %d: %v", store, c.age, err)
			}
			_, expires, _ := strings.Cut(set, "Expires=")
			date, err := time.Parse(time.RFC1123, strings.SplitN(expires, ";", 2)[0])
			if err != nil || date.Year() < c.year {
				t.Errorf("%T MaxAge %d: Expires %q (%v), want the year %d or later", store, c.age, expires, err, c.year)
			}
			clock.Advance(365 * 24 * time.Hour)
			if store == Store(mem) {
				got, err := load(t, mem, cookieValue(t, &ctx, "sid"))
				if err == nil && got.IsNew {
					t.Errorf("a record with MaxAge %d did not live a year", c.age)
				}
			}
		}
	}
}

// A MaxAge above what an int of this platform holds, as a 64-bit server
// sharing the keys (or the backend) writes it, loads as the largest MaxAge
// this platform accepts: with a 32-bit int, it wrapped to a negative MaxAge,
// and the next Save deleted the cookie.
func TestMaxAgeFromWiderInt(t *testing.T) {
	const wide = 3_000_000_000 // 95 years, above math.MaxInt32
	want := int(min(wide, int64(maxCookieAge)))
	store := NewCookieStore(testHash, testBlock)
	cookie, err := store.Codecs[0].Encode("sid", map[any]any{"user": "alice", metaKey: "maxage=" + strconv.FormatInt(wide, 10)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := requestWithCookie("sid", cookie)
	s, err := store.Get(ctx, "sid")
	if err != nil || s.IsNew || s.Values["user"] != "alice" || s.Options.MaxAge != want {
		t.Fatalf("Get = %v (new %v, user %v, MaxAge %d), want alice's session with MaxAge %d",
			err, s.IsNew, s.Values["user"], s.Options.MaxAge, want)
	}
	s.Values["n"] = 1
	if err := s.Save(ctx); err != nil {
		t.Fatal(err)
	}
	set := string(ctx.Response.Header.PeekCookie("sid"))
	mustContain(t, set, "Max-Age="+strconv.Itoa(want)+";")
}

// Two stores asking for one cookie name in one request: the second gets an
// error, never the first one's session (issue 11, item 5).
func TestRegistryRefusesSecondStoreForName(t *testing.T) {
	cookies := NewCookieStore(testHash, testBlock)
	mem := NewMemoryStore(testHash, testBlock)
	files := NewFilesystemStore(t.TempDir(), testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		a, errA := cookies.Get(ctx, "s")
		a.Values["from"] = "cookies"
		b, errB := mem.Get(ctx, "s")
		// A store and the ServerStore it embeds are one store.
		c, errC := files.Get(ctx, "f")
		d, errD := files.ServerStore.Get(ctx, "f")
		fmt.Fprintf(ctx, "a=%v b=%v same=%v from=%v ferr=%v,%v same=%v",
			errA, errors.Is(errB, ErrInvalidName), a == b, b.Values["from"], errC, errD, c == d)
	})
	_, body := ts.NewClient(1).Get("/")
	mustContain(t, body, "a=<nil> b=true same=false from=<nil> ferr=<nil>,<nil> same=true")
}

// A Registry kept after Clear or after its request does nothing, whatever
// requests came since (issue 11, item 6).
func TestRegistryKeptAfterReleaseIsInert(t *testing.T) {
	store := NewCookieStore(testHash, testBlock)
	_, aliceCookie := saveNewCookie(t, store, "alice")

	var ctx1 fasthttp.RequestCtx
	ctx1.Init(&fasthttp.Request{}, nil, nil)
	kept := GetRegistry(&ctx1)
	Clear(&ctx1)
	ctx1.Request.Reset()

	// Alice's request, on the same RequestCtx as fasthttp would reuse it.
	ctx1.Request.Header.SetCookie("sid", aliceCookie)
	alice, _ := store.Get(&ctx1, "sid")
	alice.Values["cart"] = "full"
	if r := GetRegistry(&ctx1); r == kept {
		t.Fatal("a released Registry was handed to the next request")
	}
	s, err := kept.Get(store, "sid")
	if err == nil || s == alice || s.Values["user"] != nil {
		t.Fatalf("the kept Registry gave session %v (err %v)", s.Values, err)
	}
	if err := kept.Save(&ctx1); err == nil {
		t.Fatal("the kept Registry saved")
	}
	Clear(&ctx1) // the next request's: releases Alice's registry
	Clear(&ctx1) // a second time: nothing left to release
	if r := GetRegistry(&ctx1); r == kept {
		t.Fatal("a released Registry came back")
	}
}

// Error texts have one "sessions: " prefix and name the session once
// (issue 12, item 7), and still match every sentinel.
func TestErrorTexts(t *testing.T) {
	noKey := NewCookieStore(nil)
	mem := NewMemoryStore(testHash, testBlock)
	ts := newTestServer(t, func(ctx *fasthttp.RequestCtx) {
		var errs []error
		s, _ := noKey.Get(ctx, "shop")
		s.Values["x"] = 1
		errs = append(errs, Save(ctx))
		_, err := mem.Get(ctx, "tampered")
		errs = append(errs, err)
		big, _ := NewCookieStore(testHash, testBlock).New(ctx, "big")
		big.Values["x"] = strings.Repeat("x", 5000)
		errs = append(errs, big.Save(ctx))
		for _, err := range errs {
			fmt.Fprintf(ctx, "%v\n", err)
		}
		fmt.Fprintf(ctx, "%v %v %v", errors.Is(errs[0], ErrInvalidKey), errors.Is(errs[1], ErrCookieInvalid), errors.Is(errs[2], ErrCookieTooLong))
	})
	c := ts.NewClient(1)
	c.Jar["tampered"] = "garbage"
	_, body := c.Get("/")
	lines := strings.Split(body, "\n")
	if lines[len(lines)-1] != "true true true" {
		t.Fatalf("sentinels: %q", body)
	}
	for i, name := range []string{"shop", "tampered", "big"} {
		line := lines[i]
		if strings.Count(line, "sessions:") != 1 || !strings.HasPrefix(line, "sessions: ") ||
			strings.Count(line, `"`+name+`"`) != 1 {
			t.Errorf("error %d: %q: want one \"sessions:\" prefix and one mention of %q", i, line, name)
		}
	}
}
