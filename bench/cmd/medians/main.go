// Command medians reads the output of `go test -bench` (several runs of the
// same benchmarks, interleaved or not) on standard input or from the files
// named as arguments, and prints the median ns/op, B/op and allocs/op of
// each benchmark as a Markdown table, the median backend calls per request
// (loads/op, writes/op, touches/op) of the benchmarks that report them,
// and the ratios between the libraries that bench/README.md discusses,
// each with its target.
//
//	go test -run '^$' -bench . -count 6 | go run ./cmd/medians
//	go run ./cmd/medians -before old.txt new.txt
//
// With -before FILE it compares instead: for each benchmark in both FILE
// (the runs of the old code) and the other input (the new code), the
// medians before and after, the change, the spread of each side, and, when
// both have the same number of runs (rounds alternating the two binaries),
// the median and the range of the per-round ratios after/before.
//
// It needs nothing outside the standard library, so it works on a fresh
// machine where benchstat cannot be installed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result holds every measurement of one benchmark, by unit.
type result struct {
	name    string
	samples map[string][]float64
}

// procSuffix is the -GOMAXPROCS suffix that go test appends to names.
var procSuffix = regexp.MustCompile(`-\d+$`)

func parse(r io.Reader, results map[string]*result, order *[]string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// BenchmarkX-2  1234  5678 ns/op  90 B/op  1 allocs/op
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(procSuffix.ReplaceAllString(f[0], ""), "Benchmark")
		res := results[name]
		if res == nil {
			res = &result{name: name, samples: map[string][]float64{}}
			results[name] = res
			*order = append(*order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			res.samples[f[i+1]] = append(res.samples[f[i+1]], v)
		}
	}
	return sc.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// spread returns (max-min)/median in percent: how far apart the runs were.
func spread(xs []float64) float64 {
	m := median(xs)
	if m == 0 || len(xs) < 2 {
		return 0
	}
	return (slices.Max(xs) - slices.Min(xs)) / m * 100
}

// group formats n with thousands separators, as the README's tables do.
func group(n float64) string {
	if n < 100 && n > -100 && n != float64(int64(n)) {
		return strconv.FormatFloat(n, 'f', 1, 64)
	}
	s := strconv.FormatFloat(n, 'f', 0, 64)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: medians [file ...]  (default: standard input)")
		flag.PrintDefaults()
	}
	before := flag.String("before", "", "compare: the `file` of the old code's runs, against the other input")
	flag.Parse()
	results := map[string]*result{}
	var order []string
	if flag.NArg() == 0 {
		if err := parse(os.Stdin, results, &order); err != nil {
			fmt.Fprintln(os.Stderr, "medians:", err)
			os.Exit(1)
		}
	}
	for _, path := range flag.Args() {
		if err := parseFile(path, results, &order); err != nil {
			fmt.Fprintln(os.Stderr, "medians:", err)
			os.Exit(1)
		}
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "medians: no benchmark results in the input")
		os.Exit(1)
	}
	if *before != "" {
		old := map[string]*result{}
		var oldOrder []string
		if err := parseFile(*before, old, &oldOrder); err != nil {
			fmt.Fprintln(os.Stderr, "medians:", err)
			os.Exit(1)
		}
		compare(old, results, order)
		return
	}

	fmt.Println("| benchmark | runs | ns/op | ± (max-min)/median | B/op | allocs/op |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, name := range order {
		r := results[name]
		ns := r.samples["ns/op"]
		fmt.Printf("| %s | %d | %s | %.0f%% | %s | %s |\n", name, len(ns),
			group(median(ns)), spread(ns), group(median(r.samples["B/op"])), group(median(r.samples["allocs/op"])))
	}

	// Backend calls per request, where counted.
	header := false
	for _, name := range order {
		r := results[name]
		if len(r.samples["loads/op"]) == 0 {
			continue
		}
		if !header {
			fmt.Println()
			fmt.Println("| benchmark | loads/op | writes/op | touches/op |")
			fmt.Println("|---|---:|---:|---:|")
			header = true
		}
		fmt.Printf("| %s | %.3g | %.3g | %.3g |\n", name,
			median(r.samples["loads/op"]), median(r.samples["writes/op"]), median(r.samples["touches/op"]))
	}

	med := func(name, unit string) (float64, bool) {
		r, ok := results[name]
		if !ok || len(r.samples[unit]) == 0 {
			return 0, false
		}
		return median(r.samples[unit]), true
	}
	fmt.Println()
	fmt.Println("| comparison | value | target | |")
	fmt.Println("|---|---:|---|---|")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	ratio := func(label, num, den string, target float64) {
		a, ok1 := med(num, "ns/op")
		b, ok2 := med(den, "ns/op")
		if !ok1 || !ok2 || b == 0 {
			return
		}
		x := a / b
		if target > 0 {
			fmt.Printf("| %s | %.2fx | >= %gx | %s |\n", label, x, target, verdict(x >= target))
		} else {
			fmt.Printf("| %s | %.2fx | | |\n", label, x)
		}
	}
	ratio("gorilla CookieStore / ours, through the Registry (ns/op)", "GorillaCookieStore", "CookieStoreRegistry", 6)
	ratio("gorilla CookieStore / ours, direct New+Save (ns/op)", "GorillaCookieStore", "CookieStore", 6)
	// The Registry's cost, isolated around a store that does nothing: the
	// figure the target is judged on.
	if d, ok1 := med("StubDirect", "ns/op"); ok1 {
		if r, ok2 := med("StubRegistry", "ns/op"); ok2 {
			fmt.Printf("| Registry overhead, isolated: StubRegistry - StubDirect (ns/op) | %+.1f ns | <= 150 ns | %s |\n", r-d, verdict(r-d <= 150))
		}
	}
	if d, ok1 := med("StubDirect", "allocs/op"); ok1 {
		if r, ok2 := med("StubRegistry", "allocs/op"); ok2 {
			fmt.Printf("| Registry overhead, isolated (allocs/op) | %+.0f | 0 | %s |\n", r-d, verdict(r-d <= 0))
		}
	}
	// The same on the CookieStore rows: the difference of two ~4 us
	// figures, so run-to-run noise is of the order of the difference; the
	// median of the per-round differences (both rows run back to back in
	// each round) is steadier than the difference of the medians.
	if d, ok1 := results["CookieStore"]; ok1 {
		if r, ok2 := results["CookieStoreRegistry"]; ok2 {
			dn, rn := d.samples["ns/op"], r.samples["ns/op"]
			fmt.Printf("| CookieStoreRegistry - CookieStore, difference of medians (ns/op) | %+.0f ns | (noisy, see above) | |\n", median(rn)-median(dn))
			if len(dn) == len(rn) && len(dn) > 0 {
				diffs := make([]float64, len(dn))
				for i := range dn {
					diffs[i] = rn[i] - dn[i]
				}
				fmt.Printf("| CookieStoreRegistry - CookieStore, median of per-round differences (ns/op) | %+.0f ns | (noisy, see above) | |\n", median(diffs))
			}
			fmt.Printf("| CookieStoreRegistry - CookieStore (allocs/op) | %+.0f | 0 | %s |\n",
				median(r.samples["allocs/op"])-median(d.samples["allocs/op"]),
				verdict(median(r.samples["allocs/op"]) <= median(d.samples["allocs/op"])))
		}
	}
	if a, ok1 := med("CookieStoreRegistry", "allocs/op"); ok1 {
		fmt.Printf("| CookieStore allocs/op through the Registry | %.0f | <= 40 | %s |\n", a, verdict(a <= 40))
	}
	if a, ok1 := med("FilesystemStore", "ns/op"); ok1 {
		if g, ok2 := med("GorillaFilesystemStore", "ns/op"); ok2 && g > 0 {
			fmt.Printf("| ours FilesystemStore / gorilla FilesystemStore (ns/op) | %.2fx | <= 1x | %s |\n", a/g, verdict(a <= g))
		}
	}
	ratio("MemoryStore / fasthttp/session memory (ns/op)", "MemoryStore", "FasthttpSessionMemory", 0)
	ratio("Fiber session memory / MemoryStore (ns/op)", "FiberSessionMemory", "MemoryStore", 0)
	ratio("SCS memstore / MemoryStore (ns/op)", "SCSMemstore", "MemoryStore", 0)
	ratio("RedisStore / fasthttp/session redis (ns/op)", "RedisStore", "FasthttpSessionRedis", 0)
	ratio("CookieStore through the Registry / bare fasthttp (ns/op)", "CookieStoreRegistry", "BareFasthttp", 0)
	// The read-only scenario (issue 14's targets).
	ratio("read-only: gorilla FilesystemStore / ours (ns/op)", "ReadOnly/GorillaFilesystemStore", "ReadOnly/FilesystemStore", 10)
	ratio("read-only: fasthttp/session redis / our RedisStore (ns/op)", "ReadOnly/FasthttpSessionRedis", "ReadOnly/RedisStore", 1.8)
	if l, ok := med("ReadOnly/RedisStore", "loads/op"); ok {
		w, _ := med("ReadOnly/RedisStore", "writes/op")
		t, _ := med("ReadOnly/RedisStore", "touches/op")
		fmt.Printf("| read-only: our RedisStore's backend calls per request (one call, one round trip) | %.3g | 1 | %s |\n", l+w+t, verdict(l+w+t == 1))
	}
	for _, name := range order {
		if !strings.HasPrefix(name, "ReadOnly/") {
			continue
		}
		if w, ok := med(name, "writes/op"); ok {
			fmt.Printf("| %s writes/op | %.3g | 0 | %s |\n", name, w, verdict(w == 0))
		}
	}
	ratio("read-only: gorilla CookieStore / ours (ns/op)", "ReadOnly/GorillaCookieStore", "ReadOnly/CookieStore", 0)
	ratio("read-only: fasthttp/session memory / our MemoryStore (ns/op)", "ReadOnly/FasthttpSessionMemory", "ReadOnly/MemoryStore", 0)
	ratio("read-only: SCS pgxstore / our PostgresStore (ns/op)", "ReadOnly/SCSPostgres", "ReadOnly/PostgresStore", 0)
	ratio("changing / read-only, our FilesystemStore (ns/op)", "FilesystemStore", "ReadOnly/FilesystemStore", 0)
	ratio("changing / read-only, our RedisStore (ns/op)", "RedisStore", "ReadOnly/RedisStore", 0)
}

func parseFile(path string, results map[string]*result, order *[]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(f, results, order)
}

// compare prints, for each benchmark of order found in both old and new,
// the medians before and after and how far apart they are.
func compare(old, new map[string]*result, order []string) {
	fmt.Println("| benchmark | runs | before ns/op | ± | after ns/op | ± | after/before | per-round after/before: median [min, max] | B/op before → after | allocs/op before → after |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
	for _, name := range order {
		o, ok := old[name]
		if !ok {
			continue
		}
		n := new[name]
		on, nn := o.samples["ns/op"], n.samples["ns/op"]
		if len(on) == 0 || len(nn) == 0 {
			continue
		}
		rounds := "n/a (unequal runs)"
		if len(on) == len(nn) {
			r := make([]float64, len(on))
			for i := range on {
				r[i] = nn[i] / on[i]
			}
			rounds = fmt.Sprintf("%.2f [%.2f, %.2f]", median(r), slices.Min(r), slices.Max(r))
		}
		fmt.Printf("| %s | %d+%d | %s | %.0f%% | %s | %.0f%% | %.2f | %s | %s → %s | %s → %s |\n", name, len(on), len(nn),
			group(median(on)), spread(on), group(median(nn)), spread(nn), median(nn)/median(on), rounds,
			group(median(o.samples["B/op"])), group(median(n.samples["B/op"])),
			group(median(o.samples["allocs/op"])), group(median(n.samples["allocs/op"])))
	}
}
