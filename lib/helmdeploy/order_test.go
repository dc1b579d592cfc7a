package helmdeploy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrder(t *testing.T) {
	ch := &ChartRef{Repository: "https://r.invalid", Name: "c", Version: "1.0.0"}
	rel := func(name string, deps ...string) Release {
		return Release{Name: name, Namespace: "ns", Chart: ch, DependsOn: deps}
	}
	tests := []struct {
		name    string
		set     []Release
		want    []string
		wantErr string
	}{
		{name: "independent releases keep their order", set: []Release{rel("c"), rel("a"), rel("b")}, want: []string{"c", "a", "b"}},
		{name: "dependencies first", set: []Release{rel("app", "db", "net"), rel("db", "net"), rel("net"), rel("x")}, want: []string{"net", "db", "app", "x"}},
		{name: "duplicate name", set: []Release{rel("a"), rel("a")}, wantErr: `release "a" (#1) field Name: the name is also release #0's`},
		{name: "unknown dependency", set: []Release{rel("a", "ghost")}, wantErr: `field DependsOn: "ghost" names no release`},
		{name: "cycle", set: []Release{rel("a", "b"), rel("b", "c"), rel("c", "a")}, wantErr: "cycle: a -> b -> c -> a"},
		{name: "self dependency", set: []Release{rel("a", "a")}, wantErr: "cycle: a -> a"},
		{name: "neither chart nor manifests", set: []Release{{Name: "a", Namespace: "ns"}}, wantErr: "neither Chart nor Manifests"},
		{name: "both chart and manifests", set: []Release{{Name: "a", Namespace: "ns", Chart: ch, Manifests: []byte("x: y")}}, wantErr: "both Chart and Manifests"},
		{name: "values on manifests", set: []Release{{Name: "a", Namespace: "ns", Manifests: []byte("x: y"), Values: map[string]any{}}}, wantErr: "field Values"},
		{name: "no namespace", set: []Release{{Name: "a", Chart: ch}}, wantErr: "field Namespace"},
		{name: "no chart version", set: []Release{{Name: "a", Namespace: "ns", Chart: &ChartRef{Repository: "https://r", Name: "c"}}}, wantErr: "field Chart.Version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Order(tt.set)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidRelease)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, r := range got {
				names = append(names, r.Name)
			}
			require.Equal(t, tt.want, names)
		})
	}
}

func TestSelectOnlyRefusesUnknownName(t *testing.T) {
	_, err := selectOnly([]Release{{Name: "a"}}, []string{"b"})
	require.ErrorIs(t, err, ErrInvalidRelease)
	require.ErrorContains(t, err, `release "b" (#0) field Only: names no release`)
}
