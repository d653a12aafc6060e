package sessions

import (
	"errors"
	"math"
	"testing"
)

func TestTypedAccessors(t *testing.T) {
	s := NewSession(nil, "s")
	s.Set("int", 7)
	s.Set("int8", int8(-8))
	s.Set("uint64", uint64(9))
	s.Set("hugeu", uint64(math.MaxUint64))
	s.Set("str", "hello")
	s.Set("numstr", "42")
	s.Set("floatstr", "2.5")
	s.Set("boolstr", "true")
	s.Set("f32", float32(1.5))
	s.Set("f64", 3.25)
	s.Set("bool", true)
	s.Set("big", int64(math.MaxInt64))

	type tc struct {
		name string
		get  func() (any, error)
		want any
		err  error
	}
	run := func(t *testing.T, c tc) {
		t.Helper()
		got, err := c.get()
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Fatalf("error = %v, want %v", err, c.err)
			}
			return
		}
		if err != nil || got != c.want {
			t.Fatalf("= %v (%T), %v; want %v (%T)", got, got, err, c.want, c.want)
		}
	}
	i := func(k any) func() (any, error) { return func() (any, error) { return s.GetInt(k) } }
	i64 := func(k any) func() (any, error) { return func() (any, error) { return s.GetInt64(k) } }
	f := func(k any) func() (any, error) { return func() (any, error) { return s.GetFloat64(k) } }
	b := func(k any) func() (any, error) { return func() (any, error) { return s.GetBool(k) } }
	for _, c := range []tc{
		{"int", i("int"), 7, nil},
		{"int from int8", i("int8"), -8, nil},
		{"int from uint64", i("uint64"), 9, nil},
		{"int from decimal string", i("numstr"), 42, nil},
		{"int from text", i("str"), nil, ErrValueType},
		{"int missing", i("nope"), nil, ErrValueMissing},
		{"int from float", i("f64"), nil, ErrValueType},
		{"int64 overflow", i64("hugeu"), nil, ErrValueType},
		{"int64", i64("big"), int64(math.MaxInt64), nil},
		{"float64", f("f64"), 3.25, nil},
		{"float64 from float32", f("f32"), 1.5, nil},
		{"float64 from int", f("int"), 7.0, nil},
		{"float64 from huge uint", f("hugeu"), float64(math.MaxUint64), nil},
		{"float64 from string", f("floatstr"), 2.5, nil},
		{"float64 from bool", f("bool"), nil, ErrValueType},
		{"float64 missing", f("nope"), nil, ErrValueMissing},
		{"bool", b("bool"), true, nil},
		{"bool from string", b("boolstr"), true, nil},
		{"bool from text", b("str"), nil, ErrValueType},
		{"bool from int", b("int"), nil, ErrValueType},
		{"bool missing", b("nope"), nil, ErrValueMissing},
	} {
		t.Run(c.name, func(t *testing.T) { run(t, c) })
	}

	if got := s.GetString("str"); got != "hello" {
		t.Errorf("GetString = %q", got)
	}
	if got := s.GetString("int"); got != "" {
		t.Errorf("GetString of an int = %q, want empty", got)
	}
	if got := s.GetString("nope"); got != "" {
		t.Errorf("GetString of a missing key = %q", got)
	}
	if s.Get("str") != "hello" || s.Get("nope") != nil {
		t.Error("Get")
	}
	s.Delete("str")
	if _, ok := s.Values["str"]; ok {
		t.Error("Delete left the value")
	}
}

// TestTypedAccessorsNamedTypes: "any integer type" includes named ones,
// such as a registered `type Role int` that gob gives back as itself.
func TestTypedAccessorsNamedTypes(t *testing.T) {
	type role int
	type count uint16
	type ratio float32
	s := NewSession(nil, "s")
	s.Set("role", role(-3))
	s.Set("count", count(12))
	s.Set("ratio", ratio(0.5))
	if n, err := s.GetInt("role"); n != -3 || err != nil {
		t.Errorf("GetInt(role) = %v, %v", n, err)
	}
	if n, err := s.GetInt64("count"); n != 12 || err != nil {
		t.Errorf("GetInt64(count) = %v, %v", n, err)
	}
	if f, err := s.GetFloat64("ratio"); f != 0.5 || err != nil {
		t.Errorf("GetFloat64(ratio) = %v, %v", f, err)
	}
	if f, err := s.GetFloat64("role"); f != -3 || err != nil {
		t.Errorf("GetFloat64(role) = %v, %v", f, err)
	}
	s.Set("ptr", uintptr(7)) // an integer type too
	if n, err := s.GetInt("ptr"); n != 7 || err != nil {
		t.Errorf("GetInt(ptr) = %v, %v", n, err)
	}
	if _, err := s.GetInt("ratio"); !errors.Is(err, ErrValueType) {
		t.Errorf("GetInt(ratio) = %v, want ErrValueType", err)
	}
}

func TestFlashes(t *testing.T) {
	s := NewSession(nil, "s")
	if f := s.Flashes(); f != nil {
		t.Fatalf("Flashes of an empty session = %v", f)
	}
	s.AddFlash("a")
	s.AddFlash(2)
	s.AddFlash("x", "errors")
	if f := s.Flashes(); len(f) != 2 || f[0] != "a" || f[1] != 2 {
		t.Fatalf("Flashes = %v", f)
	}
	if f := s.Flashes(); f != nil {
		t.Fatalf("Flashes read twice = %v", f)
	}
	if f := s.Flashes("errors"); len(f) != 1 || f[0] != "x" {
		t.Fatalf("Flashes(errors) = %v", f)
	}
	// A value of another type under the flash key is dropped, not a panic.
	s.Values["_flash"] = "not a slice"
	s.AddFlash("b")
	if f := s.Flashes(); len(f) != 1 || f[0] != "b" {
		t.Fatalf("Flashes after a foreign value = %v", f)
	}
}

func TestSessionSaveWithoutStore(t *testing.T) {
	s := NewSession(nil, "s")
	if err := s.Save(nil); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Save without a store = %v", err)
	}
}
