// Command httpclient fetches a URL (an IPv4 literal host) over zocket, on the stack that ZF_ATTR
// describes, through net/http's Transport, and writes the body to stdout.
package main

import (
	"io"
	"log"
	"net/http"
	"os"

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
	client := &http.Client{Transport: &http.Transport{DialContext: s.DialContext}}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		log.Fatal(err)
	}
}
