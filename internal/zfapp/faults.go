package zfapp

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/zocket/zocket/stack"
)

// FaultsFlag registers the -faults flag and returns its value: the fault shim (stack.Faults)
// the tool puts between its stack and its port once the stack is open (ApplyFaults), so that a
// run over a clean link (memif) sees deterministic loss, duplication, reordering or corruption
// of the frames this side sends. The zero value, the default, installs no shim.
func FaultsFlag(fs *flag.FlagSet) *stack.Faults {
	f := new(stack.Faults)
	fs.Var((*faultsValue)(f), "faults", "impair the frames this side sends: `LIST` of drop=P, dup=P, reorder=P, corrupt=P "+
		"(probabilities 0..1) and seed=N (the PRNG's, for replay), e.g. drop=0.001,seed=1")
	return f
}

// ApplyFaults installs f on the app's stack; the zero Faults leaves the stack alone.
func (app *App) ApplyFaults(f stack.Faults) {
	if f != (stack.Faults{}) {
		app.Stack.SetFaults(f)
	}
}

// ParseFaults reads a -faults list: comma-separated name=value pairs among drop, dup, reorder,
// corrupt (probabilities in [0, 1]) and seed (an unsigned integer); "" is no faults. A name it
// does not know, a value that does not parse or a probability outside [0, 1] fails with
// EINVAL.
func ParseFaults(s string) (stack.Faults, error) {
	var f stack.Faults
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return stack.Faults{}, fmt.Errorf("-faults %q: want name=value: %w", kv, syscall.EINVAL)
		}
		if name == "seed" {
			n, err := strconv.ParseUint(value, 0, 64)
			if err != nil {
				return stack.Faults{}, fmt.Errorf("-faults seed=%q: want an unsigned integer: %w", value, syscall.EINVAL)
			}
			f.Seed = n
			continue
		}
		p := map[string]*float64{"drop": &f.Drop, "dup": &f.Duplicate, "reorder": &f.Reorder, "corrupt": &f.Corrupt}[name]
		if p == nil {
			return stack.Faults{}, fmt.Errorf("-faults %q: unknown (drop, dup, reorder, corrupt, seed): %w", name, syscall.EINVAL)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 || v > 1 {
			return stack.Faults{}, fmt.Errorf("-faults %s=%q: want a probability in [0, 1]: %w", name, value, syscall.EINVAL)
		}
		*p = v
	}
	return f, nil
}

// faultsValue is stack.Faults as a flag.Value.
type faultsValue stack.Faults

func (v *faultsValue) String() string {
	if v == nil || *v == (faultsValue{}) {
		return ""
	}
	return fmt.Sprintf("drop=%g,dup=%g,reorder=%g,corrupt=%g,seed=%d", v.Drop, v.Duplicate, v.Reorder, v.Corrupt, v.Seed)
}

func (v *faultsValue) Set(s string) error {
	f, err := ParseFaults(s)
	if err != nil {
		return err
	}
	*v = faultsValue(f)
	return nil
}
