//go:build race

package sessions

// raceEnabled reports that the tests run under the race detector, which
// makes them ten times slower: long tests run fewer iterations.
const raceEnabled = true
