// Command httpserver is net/http on zocket: a greeting on the stack of ZF_ATTR, on the address
// argument (default ":8080"), until SIGINT or SIGTERM, then a graceful shutdown.
package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/zocket/zocket/gonet"
	"github.com/zocket/zocket/stack"
)

func main() {
	a, err := stack.NewAttr() // from ZF_ATTR
	if err != nil {
		log.Fatal(err)
	}
	s, err := gonet.Open(a)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	l, err := s.Listen("tcp", append(os.Args[1:], ":8080")[0])
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from zocket\n") })}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop(); srv.Shutdown(context.Background()) }()
	log.Printf("serving on %s", l.Addr())
	if err := srv.Serve(l); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
