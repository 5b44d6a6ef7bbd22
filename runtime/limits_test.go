package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/wasmgen"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

func TestLoadConfig_LimitsAreTheLeast(t *testing.T) {
	// effective = min(manifest, load config, host ceiling), for each limit,
	// with what lowered it.
	const manifestLimits = basicManifest + `
[limits]
memory  = "8MiB"
timeout = "2s"
output  = "1MiB"
fuel    = 5000000
`
	mod := wasmgen.Plugin(handler("h", wasmgen.I32Const(512))).Bytes()
	tests := []struct {
		name     string
		cfg      runtime.Config
		lc       runtime.LoadConfig
		expected runtime.Limits
	}{
		{
			name:     "manifest",
			cfg:      runtime.NewConfig(),
			lc:       runtime.NewLoadConfig(),
			expected: runtime.Limits{Memory: 8 << 20, Timeout: 2 * time.Second, Output: 1 << 20, Fuel: 5000000},
		},
		{
			name: "load config below the manifest",
			cfg:  runtime.NewConfig(),
			lc: runtime.NewLoadConfig().WithMemory(4<<20 + 100).WithTimeout(time.Second).WithOutput(1000).
				WithFuel(20000),
			expected: runtime.Limits{Memory: 4 << 20, Timeout: time.Second, Output: 1000, Fuel: 20000, Lowered: []runtime.LoweredLimit{
				{Name: "memory", Requested: "8MiB", Effective: "4MiB", By: runtime.ByLoadConfig},
				{Name: "timeout", Requested: "2s", Effective: "1s", By: runtime.ByLoadConfig},
				{Name: "output", Requested: "1MiB", Effective: "1000B", By: runtime.ByLoadConfig},
				{Name: "fuel", Requested: "5000000", Effective: "20000", By: runtime.ByLoadConfig},
			}},
		},
		{
			name:     "load config above the manifest changes nothing",
			cfg:      runtime.NewConfig(),
			lc:       runtime.NewLoadConfig().WithMemory(1 << 30).WithTimeout(time.Hour).WithOutput(1 << 30).WithFuel(1 << 40),
			expected: runtime.Limits{Memory: 8 << 20, Timeout: 2 * time.Second, Output: 1 << 20, Fuel: 5000000},
		},
		{
			name: "never above the host ceilings",
			cfg:  runtime.NewConfig().WithMaxMemory(2 << 20).WithMaxTimeout(500 * time.Millisecond).WithMaxOutput(512),
			lc:   runtime.NewLoadConfig().WithMemory(1 << 30).WithTimeout(time.Hour).WithOutput(1 << 30),
			expected: runtime.Limits{Memory: 2 << 20, Timeout: 500 * time.Millisecond, Output: 512, Fuel: 5000000, Lowered: []runtime.LoweredLimit{
				{Name: "memory", Requested: "8MiB", Effective: "2MiB", By: runtime.ByHostCeiling},
				{Name: "timeout", Requested: "2s", Effective: "500ms", By: runtime.ByHostCeiling},
				{Name: "output", Requested: "1MiB", Effective: "512B", By: runtime.ByHostCeiling},
			}},
		},
		{
			name: "the lower of load config and ceiling wins",
			cfg:  runtime.NewConfig().WithMaxMemory(2 << 20).WithMaxTimeout(500 * time.Millisecond),
			lc:   runtime.NewLoadConfig().WithMemory(1 << 20).WithTimeout(time.Second),
			expected: runtime.Limits{Memory: 1 << 20, Timeout: 500 * time.Millisecond, Output: 1 << 20, Fuel: 5000000, Lowered: []runtime.LoweredLimit{
				{Name: "memory", Requested: "8MiB", Effective: "1MiB", By: runtime.ByLoadConfig},
				{Name: "timeout", Requested: "2s", Effective: "500ms", By: runtime.ByHostCeiling},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRuntime(t, tt.cfg)
			p, err := e.rt.LoadWithConfig(context.Background(), writePlugin(t, manifestLimits, mod), tt.lc)
			require.NoError(t, err)
			defer p.Close(context.Background())
			assert.Equal(t, tt.expected, p.Limits())
		})
	}
}

func TestLoadConfig_FuelWithoutManifestFuel(t *testing.T) {
	e := newRuntime(t, runtime.NewConfig())
	p, err := e.rt.LoadWithConfig(context.Background(), writePlugin(t, basicManifest, wasmgen.Plugin(handler("h", wasmgen.I32Const(512))).Bytes()),
		runtime.NewLoadConfig().WithFuel(777))
	require.NoError(t, err)
	defer p.Close(context.Background())
	l := p.Limits()
	assert.Equal(t, uint64(777), l.Fuel)
	assert.Equal(t, []runtime.LoweredLimit{{Name: "fuel", Requested: "none", Effective: "777", By: runtime.ByLoadConfig}}, l.Lowered)
	assert.Equal(t, "limits.fuel none lowered to 777 by the load config", l.Lowered[0].String())
}

func TestLoadConfig_LimitsAreEnforced(t *testing.T) {
	ctx := context.Background()
	loop := wasmgen.Plugin(handler("h", wasmgen.Cat(wasmgen.Loop, wasmgen.I32Const(512)))).Bytes()
	// A result of 1000 bytes: tag 0, ptr 1024, len 1000.
	big := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)))
	big.Data, big.DataOffset = []byte{0, 0, 0, 0, 0, 4, 0, 0, 0xe8, 3, 0, 0}, 512
	fourPages := wasmgen.Plugin(handler("h", wasmgen.I32Const(512)))
	fourPages.MemoryMin = 4

	t.Run("memory", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		dir := writePlugin(t, basicManifest, fourPages.Bytes())
		_, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithMemory(2*65536))
		assert.ErrorIs(t, err, runtime.ErrModule)
		assert.ErrorContains(t, err, "module needs 4 pages (262144 bytes) of memory to start, over the limit of 2 pages")
		p, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithMemory(4*65536))
		require.NoError(t, err)
		require.NoError(t, p.Close(ctx))
	})
	t.Run("timeout", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.LoadWithConfig(ctx, writePlugin(t, basicManifest, loop), runtime.NewLoadConfig().WithTimeout(100*time.Millisecond))
		require.NoError(t, err)
		defer p.Close(ctx)
		_, err = p.Call(ctx, "h", nil)
		assert.ErrorIs(t, err, runtime.ErrTimeout)
		assert.ErrorContains(t, err, "100ms")
	})
	t.Run("output", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		dir := writePlugin(t, basicManifest, big.Bytes())
		p, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithOutput(999))
		require.NoError(t, err)
		defer p.Close(ctx)
		_, err = p.Call(ctx, "h", nil)
		assert.ErrorIs(t, err, runtime.ErrContract)
		p2, err := e.rt.LoadWithConfig(ctx, dir, runtime.NewLoadConfig().WithOutput(1000))
		require.NoError(t, err)
		defer p2.Close(ctx)
		out, err := p2.Call(ctx, "h", nil)
		require.NoError(t, err)
		assert.Len(t, out, 1000)
	})
	t.Run("fuel", func(t *testing.T) {
		e := newRuntime(t, runtime.NewConfig())
		p, err := e.rt.LoadWithConfig(ctx, writePlugin(t, basicManifest, loop), runtime.NewLoadConfig().WithFuel(10000))
		require.NoError(t, err)
		defer p.Close(ctx)
		_, err = p.Call(ctx, "h", nil)
		assert.ErrorIs(t, err, runtime.ErrFuel)
		assert.ErrorContains(t, err, "limits.fuel 10000")
	})
}

func TestInspect_Limits(t *testing.T) {
	e := newRuntime(t, runtime.NewConfig().WithMaxMemory(16<<20).WithMaxTimeout(time.Minute))
	dir := writePlugin(t, basicManifest+"\n[limits]\nmemory = \"4GiB\"\ntimeout = \"2562047h\"\n", wasmgen.Plugin(handler("h", wasmgen.I32Const(512))).Bytes())
	ins, err := e.rt.Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(16<<20), ins.Limits.Memory)
	assert.Equal(t, time.Minute, ins.Limits.Timeout)
	require.Len(t, ins.Limits.Lowered, 2)
	assert.Equal(t, "limits.memory 4GiB lowered to 16MiB by the host ceiling", ins.Limits.Lowered[0].String())
	assert.Equal(t, "limits.timeout 2562047h0m0s lowered to 1m0s by the host ceiling", ins.Limits.Lowered[1].String())
}
