//go:build !race

package pgprovider

// raceSlack is extra slack for real-time cases under the race detector.
const raceSlack = 0
