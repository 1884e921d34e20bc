// Command benchplot draws the scaling series of the provider benchmarks
// (spec.Bench's Scale/... sub-benchmarks) as an SVG chart: the cost of one
// operation against the size of the backlog it must not pay for.
//
// Usage:
//
//	go test ./memprovider -run '^$' -bench 'Provider/Scale' -count 5 > docs/bench/scale.txt
//	go run ./cmd/benchplot -in docs/bench/scale.txt -out docs/scaling.svg
//
// Each point is the median ns/op of the runs of one benchmark. Series are
// the benchmark names without their "=N" suffix; N is the x value, drawn on
// a logarithmic axis. A dashed line at twice each series' smallest-backlog
// figure marks the "within 2x" target.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "-", "benchmark output to read (- for stdin)")
	out := flag.String("out", "-", "SVG file to write (- for stdout)")
	title := flag.String("title", "memprovider: cost per operation vs backlog", "chart title")
	flag.Parse()
	if err := run(*in, *out, *title); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func run(in, out, title string) error {
	r := io.Reader(os.Stdin)
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	series, err := parse(r)
	if err != nil {
		return err
	}
	if len(series) == 0 {
		return fmt.Errorf("no Scale/<name>=<n> benchmarks in the input")
	}
	w := io.Writer(os.Stdout)
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return render(w, title, series)
}

// point is one backlog size and its median cost.
type point struct {
	n  float64
	ns float64
}

// series is one named curve.
type series struct {
	name   string
	points []point
}

var benchLine = regexp.MustCompile(`^Benchmark\S*/Scale/([A-Za-z]+)=(\d+)(-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// parse collects Scale/<name>=<n> results, the median of repeated runs.
func parse(r io.Reader) ([]series, error) {
	runs := map[string]map[float64][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n, _ := strconv.ParseFloat(m[2], 64)
		ns, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			return nil, err
		}
		if runs[m[1]] == nil {
			runs[m[1]] = map[float64][]float64{}
		}
		runs[m[1]][n] = append(runs[m[1]][n], ns)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []series
	for name, byN := range runs {
		s := series{name: name}
		for n, v := range byN {
			s.points = append(s.points, point{n, median(v)})
		}
		slices.SortFunc(s.points, func(a, b point) int { return int(a.n - b.n) })
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b series) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// render writes the chart.
func render(w io.Writer, title string, all []series) error {
	const (
		width, height          = 820, 480
		left, right, top, bott = 80, 250, 50, 60
	)
	minN, maxN, maxNs := math.Inf(1), 0.0, 0.0
	for _, s := range all {
		for _, p := range s.points {
			minN, maxN = math.Min(minN, p.n), math.Max(maxN, p.n)
			maxNs = math.Max(maxNs, p.ns)
		}
		maxNs = math.Max(maxNs, 2*s.points[0].ns)
	}
	if maxN == minN {
		maxN = minN * 10
	}
	yMax := niceCeil(maxNs * 1.1)
	plotW, plotH := float64(width-left-right), float64(height-top-bott)
	x := func(n float64) float64 {
		return float64(left) + plotW*(math.Log10(n)-math.Log10(minN))/(math.Log10(maxN)-math.Log10(minN))
	}
	y := func(ns float64) float64 { return float64(top) + plotH*(1-ns/yMax) }

	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="25" font-size="16" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// Axes and grid.
	for i := 0; i <= 5; i++ {
		v := yMax * float64(i) / 5
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), width-right, y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, formatNs(v))
	}
	for n := minN; n <= maxN*1.0001; n *= 10 {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(n), top, x(n), height-bott)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(n), height-bott+18, formatN(n))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">backlog size (log scale)</text>`+"\n", float64(left)+plotW/2, height-15)
	fmt.Fprintf(b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">ns per operation</text>`+"\n", float64(top)+plotH/2, float64(top)+plotH/2)
	// Series.
	for i, s := range all {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.n), y(p.ns)))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.Join(pts, " "))
		for _, p := range s.points {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s n=%s: %s</title></circle>`+"\n",
				x(p.n), y(p.ns), color, html.EscapeString(s.name), formatN(p.n), formatNs(p.ns))
		}
		limit := 2 * s.points[0].ns
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 4" stroke-opacity="0.6"/>`+"\n",
			x(s.points[0].n), y(limit), x(s.points[len(s.points)-1].n), y(limit), color)
		ly := top + 20*i
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", width-right+15, ly, width-right+40, ly, color)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", width-right+46, ly+4, html.EscapeString(s.name))
	}
	ly := top + 20*len(all) + 10
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555" stroke-dasharray="4 4"/>`+"\n", width-right+15, ly, width-right+40, ly)
	fmt.Fprintf(b, `<text x="%d" y="%d">2x smallest backlog</text>`+"\n", width-right+46, ly+4)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func formatNs(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + " µs"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ns"
}

func formatN(n float64) string {
	e := math.Log10(n)
	if e == math.Trunc(e) && e >= 3 {
		return "1e" + strconv.Itoa(int(e))
	}
	return strconv.FormatFloat(n, 'f', 0, 64)
}
