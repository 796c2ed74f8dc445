// Package configs embeds the example attribute files (name=value lines, '#' comments) so that
// every command can start from a known configuration with no file on disk: `-config
// memif-server` loads configs/memif-server.attr from the binary. default.attr documents every
// attribute at its default and is kept in sync with the attribute table by its tests.
package configs

import (
	"embed"
	"fmt"
	"strings"
	"syscall"
)

//go:embed *.attr
var files embed.FS

// Names lists the embedded configurations (file names without .attr).
func Names() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".attr"))
	}
	return out
}

// Loader is what a configuration is applied to (a *stack.Attr).
type Loader interface {
	LoadFile(path string) error
	Load(data []byte, where string) error
}

// Apply loads configuration name into a: an embedded one by its name, or any file by path
// (a name with a '/' or ending in .attr). An unknown embedded name fails with ENOENT.
func Apply(a Loader, name string) error {
	if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".attr") {
		return a.LoadFile(name)
	}
	b, err := files.ReadFile(name + ".attr")
	if err != nil {
		return fmt.Errorf("config %q: not embedded (have %s): %w", name, strings.Join(Names(), ", "), syscall.ENOENT)
	}
	return a.Load(b, "configs/"+name+".attr")
}
