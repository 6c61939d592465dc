using System.Diagnostics;
using System.Globalization;
using System.Text;
using BillingConsole.Configuration;
using BillingConsole.Engine.Signing;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.Events;

/// <summary>What an endpoint answered to one delivery; <see cref="Error"/> is null only for a 2xx.</summary>
public sealed record EndpointAnswer(int? StatusCode, int LatencyMs, string? Excerpt, string? Error)
{
    public bool Accepted => Error is null;
}

/// <summary>
/// Posts signed events. The client follows no redirects, connects only to addresses the <see cref="EndpointAddressGuard"/>
/// allows, gives up after Events:TimeoutSeconds and reads at most <see cref="ResponseReadLimit"/> bytes of an answer.
/// </summary>
public sealed class EventPoster : IDisposable
{
    public const string SignatureHeader = "Billing-Signature";
    public const string EventIdHeader = "Billing-Event-Id";
    public const string EventTypeHeader = "Billing-Event-Type";
    public const int ResponseReadLimit = 4096;

    private readonly HttpClient _http;
    private readonly IOptionsMonitor<EventsOptions> _options;
    private readonly TimeProvider _clock;

    public EventPoster(IOptionsMonitor<EventsOptions> options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = (context, ct) => EndpointAddressGuard.ConnectAsync(context, () => options.CurrentValue.Networks(), ct),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public async Task<EndpointAnswer> PostAsync(string url, string secret, Guid eventId, string type, string body, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        request.Headers.Add(SignatureHeader, WebhookSignature.Sign(secret, timestamp, bytes));
        request.Headers.Add(EventIdHeader, eventId.ToString());
        request.Headers.Add(EventTypeHeader, type);

        var timeoutSeconds = _options.CurrentValue.TimeoutSeconds;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        var started = Stopwatch.GetTimestamp();
        int Elapsed() => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var excerpt = await ReadCappedAsync(response, timeout.Token);
            var status = (int)response.StatusCode;
            var error = status switch
            {
                >= 200 and < 300 => null,
                >= 300 and < 400 => $"HTTP {status}: redirects are not followed (to {response.Headers.Location}).",
                _ => $"HTTP {status}.",
            };
            return new EndpointAnswer(status, Elapsed(), excerpt, error);
        }
        catch (HttpRequestException e) when (e.InnerException is RefusedAddressException refused)
        {
            return new EndpointAnswer(null, Elapsed(), null, refused.Message);
        }
        catch (HttpRequestException e)
        {
            return new EndpointAnswer(null, Elapsed(), null, e.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new EndpointAnswer(null, Elapsed(), null, $"No answer within {timeoutSeconds} s.");
        }
    }

    /// <summary>The start of the answer, for the delivery log; the rest is never read.</summary>
    private static async Task<string> ReadCappedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[ResponseReadLimit];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    public void Dispose() => _http.Dispose();
}
