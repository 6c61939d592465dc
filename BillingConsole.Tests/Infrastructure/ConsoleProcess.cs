using System.Diagnostics;
using System.Text;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>The built console running as its own process (see <see cref="HostProcess"/>), its output kept for failure messages.</summary>
public sealed class ConsoleProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private readonly Stopwatch _sinceStart;

    private ConsoleProcess(Uri baseAddress, Process process, Stopwatch sinceStart)
    {
        BaseAddress = baseAddress;
        _process = process;
        _sinceStart = sinceStart;
    }

    public Uri BaseAddress { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    /// <summary>From the process start to the first answer of /health/live: what a restart costs before the node works.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>Starts the console on a free loopback port with <paramref name="environment"/> and waits until /health/live answers.</summary>
    public static async Task<ConsoleProcess> StartAsync(IDictionary<string, string?> environment)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{ConsoleAppHost.FreePort()}");
        return await StartAsync(baseAddress, environment);
    }

    public static async Task<ConsoleProcess> StartAsync(Uri baseAddress, IDictionary<string, string?> environment)
    {
        var start = HostProcess.StartInfo(new Dictionary<string, string?>(environment) { ["ASPNETCORE_URLS"] = baseAddress.ToString() });
        var sinceStart = Stopwatch.StartNew();
        var console = new ConsoleProcess(baseAddress, Process.Start(start)!, sinceStart);
        console._process.OutputDataReceived += (_, e) => console.Append(e.Data);
        console._process.ErrorDataReceived += (_, e) => console.Append(e.Data);
        console._process.BeginOutputReadLine();
        console._process.BeginErrorReadLine();
        try
        {
            await console.WaitUntilLiveAsync();
        }
        catch
        {
            await console.DisposeAsync();
            throw;
        }
        return console;
    }

    private void Append(string? line)
    {
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitUntilLiveAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The console exited ({_process.ExitCode}):\n{Output}");
            try
            {
                if ((await client.GetAsync("/health/live")).IsSuccessStatusCode)
                {
                    StartupTime = _sinceStart.Elapsed;
                    return;
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            // Often: the trials restart nodes dozens of times, and each poll missed is time nobody uses.
            await Task.Delay(50);
        }
        throw new TimeoutException($"The console did not start within 180 s:\n{Output}");
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash or an out-of-memory kill would: nothing is flushed or stopped.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
