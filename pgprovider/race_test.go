//go:build race

package pgprovider

// raceSlack is extra slack for real-time cases under the race detector,
// which slows every call several times.
const raceSlack = 150
