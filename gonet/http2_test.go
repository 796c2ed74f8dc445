package gonet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
)

// TestHTTP2Cleartext runs net/http's unencrypted HTTP/2 (Protocols) between two gonet stacks
// over memif:
// after a first request, 32 concurrent streams on its connection, each a 1 MiB download and a 256 KiB upload checked
// by SHA-256. HTTP/2 multiplexes streams on one TCP connection, reading it from one goroutine
// and writing it from several (framer, flow-control window updates, pings), so this is a
// third-party exercise of TCPConn's concurrency, deadlines and flow control.
func TestHTTP2Cleartext(t *testing.T) {
	for _, mode := range waitModes {
		t.Run(fmt.Sprint("mode ", mode), func(t *testing.T) {
			a, b := memifPair(t, gonet.WithWaitMode(mode))
			l, err := b.Listen("tcp", ":8443")
			require.NoError(t, err)
			mux := http.NewServeMux()
			mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
				seed, _ := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
				body, _ := pattern(1<<20, seed)
				w.Write(body)
			})
			mux.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
				h := sha256.New()
				if _, err := io.Copy(h, r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
			})
			var h2 http.Protocols
			h2.SetUnencryptedHTTP2(true) // prior knowledge: HTTP/2 from the first byte
			srv := &http.Server{Handler: mux, Protocols: &h2}
			go srv.Serve(l)
			defer srv.Close()
			var conns atomic.Int32
			tr := &http.Transport{Protocols: &h2, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conns.Add(1)
				return a.DialContext(ctx, network, addr)
			}}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			base := "http://" + ipB + ":8443"
			// One request first: the streams that follow share its connection (a transport
			// that starts many requests at once dials for each before any connection exists).
			resp, err := client.Get(base + "/down?seed=0")
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := client.Get(fmt.Sprintf("%s/down?seed=%d", base, i))
					if !assert.NoError(t, err) {
						return
					}
					got := sha256.New()
					_, err = io.Copy(got, resp.Body)
					resp.Body.Close()
					assert.NoError(t, err)
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, 2, resp.ProtoMajor, "HTTP/2")
					_, want := pattern(1<<20, uint64(i))
					assert.Equal(t, want, hex.EncodeToString(got.Sum(nil)), "download %d", i)

					up, upSum := pattern(256<<10, uint64(1000+i))
					resp, err = client.Post(base+"/up", "application/octet-stream", bytes.NewReader(up))
					if !assert.NoError(t, err) {
						return
					}
					echoed, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					assert.NoError(t, err)
					assert.Equal(t, upSum, string(echoed), "upload %d", i)
				}()
			}
			wg.Wait()
			assert.Equal(t, int32(1), conns.Load(), "one connection for every stream")
		})
	}
}
