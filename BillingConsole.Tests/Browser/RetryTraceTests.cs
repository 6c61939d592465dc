using System.Collections.Concurrent;
using System.Diagnostics;
using BillingConsole.Engine.Telemetry;
using BillingConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// A support agent's Retry now, traced: the console's handling of the click, the engine's charge under it, and the charge's
/// SQL under that, in one trace (what an OTLP collector receives when Telemetry:OtlpEndpoint is set).
/// </summary>
public sealed class RetryTraceTests(ConsoleAppHost host, BrowserFixture browser)
{
    [Fact]
    public async Task A_manual_retry_is_one_trace_from_the_click_through_the_charge_to_its_SQL()
    {
        var failed = await FailedInvoices.CreateAsync(host.Services);
        var finished = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EngineTelemetry.Name || source.Name == "Npgsql" || source.Name.StartsWith("Microsoft.AspNetCore"),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = finished.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var context = await browser.NewContextAsync(host.BaseAddress);
        var page = await context.NewPageAsync();
        await ConsolePages.SignInAsDevelopmentUserAsync(page, "support", "Sam Support", $"/invoices/{failed.InvoiceId}");
        await AdminPages.WaitUntilInteractiveAsync(page);
        await page.GetByTestId("retry-payment").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await dialog.Locator("textarea").FillAsync("Customer asked for a retry on the phone");
        await dialog.GetByTestId("reason-confirm").ClickAsync();
        await Expect(page.GetByTestId("invoice-status").Locator(".status-chip")).ToHaveAttributeAsync("data-status", "paid", new() { Timeout = 30_000 });

        var charge = Assert.Single(finished, a => a.Source.Name == EngineTelemetry.Name && Equals(a.GetTagItem("billing.invoice_id"), failed.InvoiceId));
        var trace = finished.Where(a => a.TraceId == charge.TraceId).ToList();
        var names = string.Join(", ", trace.Select(a => $"{a.Source.Name}/{a.OperationName}"));
        Assert.True(charge.Parent is not null || charge.ParentSpanId != default, $"The charge has no parent; the trace holds: {names}");
        var root = trace.Single(a => a.ParentSpanId == default);
        Assert.StartsWith("Microsoft.AspNetCore", root.Source.Name);
        Assert.True(trace.Any(a => a.Source.Name == "Npgsql" && IsUnder(a, charge, trace)), $"No SQL under the charge; the trace holds: {names}");
    }

    private static bool IsUnder(Activity activity, Activity ancestor, List<Activity> trace)
    {
        var spans = trace.ToDictionary(a => a.SpanId);
        for (var parent = activity.ParentSpanId; parent != default; parent = spans.TryGetValue(parent, out var up) ? up.ParentSpanId : default)
            if (parent == ancestor.SpanId) return true;
        return false;
    }
}
