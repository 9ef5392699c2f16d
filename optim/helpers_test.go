package optim

import (
	"sort"
	"strconv"
	"strings"

	"github.com/foveaml/fovea/tensor"
)

func itoa(i int) string { return strconv.Itoa(i) }

func keys(m map[string]*tensor.Tensor) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func hasPrefix(m map[string]*tensor.Tensor, p string) bool {
	for k := range m {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
