package pvesim

import (
	"fmt"
	"regexp"
	"strconv"
)

// sizeRe matches a size in PVE's notation, optionally relative ("+").
var sizeRe = regexp.MustCompile(`^(\+)?(\d+(?:\.\d+)?)([KMGT])?$`)

// parseSize reads "32G", "3584M", "+10G" (bytes without a unit).
func parseSize(s string) (bytes int64, relative bool, ok bool) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false, false
	}
	f, _ := strconv.ParseFloat(m[2], 64)
	mult := map[string]float64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[3]]
	return int64(f * mult), m[1] == "+", true
}

// formatSize writes a size the way PVE's config shows it: "32G", "3584M", "528K".
func formatSize(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// humanSize writes a size the way wget shows it: "1.5G", "32.0M", "512".
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10)
}
