using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Tests.Api;

/// <summary>
/// /metrics serves the engine's figures in Prometheus text format to the allowed networks (loopback here) and to no one else.
/// </summary>
public sealed partial class MetricsTests(ConsoleAppHost host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_scrape_parses_and_carries_charges_by_outcome_gateway_latency_and_the_operational_gauges()
    {
        // A declined charge (insufficient funds) leaves an open dunning case behind.
        await FailedInvoices.CreateAsync(host.Services);
        await host.Services.GetRequiredService<OperationalGauges>().SampleAsync(Ct);

        using var client = host.CreateClient();
        using var answer = await client.GetAsync("/metrics", Ct);
        var text = await answer.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("text/plain", answer.Content.Headers.ContentType?.MediaType);
        var samples = Parse(text);
        var engine = string.Join("\n", samples.Where(s => s.Name.StartsWith("billing_")).Select(s => $"{s.Name}{{{s.Labels}}} {s.Value}"));
        void Expect(string name, Func<Sample, bool>? holds = null) =>
            Assert.True(samples.Any(s => s.Name == name && (holds?.Invoke(s) ?? true)), $"No {name} as expected among:\n{engine}");
        Expect("billing_charges_total", s => s.Labels.Contains("outcome=\"declined\"") && s.Value >= 1);
        Expect("billing_gateway_duration_seconds_count", s => s.Value >= 1);
        Expect("billing_dunning_open_cases", s => s.Value >= 1);
        Expect("billing_dunning_due_retries");
        Expect("billing_dunning_lateness_seconds");
        Expect("billing_notifications_pending");
        Expect("billing_jobs_queued", s => s.Labels.Contains("queue=\"billing\""));
        Assert.Contains("# TYPE billing_charges_total counter", text);
        Assert.Contains("# TYPE billing_gateway_duration_seconds histogram", text);
    }

    [Fact]
    public async Task Another_network_is_told_there_is_nothing_there()
    {
        await using var node = InMemoryNode.Create(new Dictionary<string, string>());
        try
        {
            using var client = new HttpClient(node.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.5")))
            {
                BaseAddress = node.Server.BaseAddress,
            };
            using var answer = await client.GetAsync("/metrics", Ct);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.DoesNotContain("billing_", await answer.Content.ReadAsStringAsync(Ct));
        }
        finally
        {
            host.TakeBackHangfireLogging();
        }
    }

    private sealed record Sample(string Name, string Labels, double Value);

    /// <summary>The text format's sample lines: a name, optional labels in braces, a value.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"Not a Prometheus sample line: {line}");
            samples.Add(new Sample(match.Groups["name"].Value, match.Groups["labels"].Value,
                double.Parse(match.Groups["value"].Value.Replace("+Inf", "Infinity"), CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();
}
