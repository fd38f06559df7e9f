package main

import (
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkGatewayHop calls the echo function directly on its port and
// through the gateway, in the same run, one caller at a time and with 8
// concurrent callers, and reports req/s, p50 and p99 of each:
//
//	go test -run '^$' -bench GatewayHop -benchtime 20000x ./faas-local
func BenchmarkGatewayHop(b *testing.B) {
	dir, state := sharedStack(b)
	in := start(b, dir, state)
	e, _ := in.echo("echo", "/", nil)
	targets := []struct{ name, url string }{
		{"direct", e.UpstreamURL + "/ping"},
		{"gateway", in.URL + "/function/echo/ping"},
	}
	for _, conc := range []int{1, 8} {
		for _, tg := range targets {
			b.Run(tg.name+"-c"+itoa(conc), func(b *testing.B) { load(b, tg.url, conc) })
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

// load sends b.N GETs to url from conc goroutines and reports throughput
// and latency percentiles.
func load(b *testing.B, url string, conc int) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, DisableCompression: true}}
	defer c.CloseIdleConnections()
	call := func() time.Duration {
		t0 := time.Now()
		res, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, res.StatusCode)
		}
		return time.Since(t0)
	}
	for range 200 { // warm the connection pools
		call()
	}
	var (
		mu  sync.Mutex
		all = make([]time.Duration, 0, b.N)
		wg  sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/conc+1)
			for range work {
				local = append(local, call())
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
