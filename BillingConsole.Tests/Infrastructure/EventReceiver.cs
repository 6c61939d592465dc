using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// The business's other system in the tests: a small Kestrel app on loopback that receives outgoing events, checks each
/// signature by the rule docs/events.md gives receivers, and answers as told (fail the first tries, take its time).
/// </summary>
public sealed class EventReceiver : IAsyncDisposable
{
    public sealed record Received(Guid EventId, string Type, string Body, bool SignatureValid, int Answer);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly ConcurrentDictionary<Guid, int> _tries = new();
    private int _inFlight;
    private int _maxInFlight;
    private int _redirectTargetHits;

    private EventReceiver(WebApplication app) => _app = app;

    /// <summary>The signing secret of the endpoint this receiver stands for (shown once at registration).</summary>
    public string Secret { get; set; } = string.Empty;
    /// <summary>Answer 500 to the first this-many tries of each event id.</summary>
    public int FailFirstTries { get; set; }
    /// <summary>How long each answer takes.</summary>
    public TimeSpan Delay { get; set; }

    public string BaseUrl { get; private set; } = string.Empty;
    public string Url => $"{BaseUrl}/events";
    /// <summary>Answers 302 to <see cref="Url"/>'s sibling /moved-here, which counts the requests that follow it.</summary>
    public string RedirectingUrl => $"{BaseUrl}/moved";

    public IReadOnlyList<Received> All => [.. _received];
    /// <summary>The events answered 2xx, in the order they arrived.</summary>
    public IReadOnlyList<Received> Accepted => [.. _received.Where(r => r.Answer is >= 200 and < 300)];
    public int MaxInFlight => _maxInFlight;
    public int RedirectTargetHits => _redirectTargetHits;

    public static async Task<EventReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new EventReceiver(app);
        app.MapPost("/events", receiver.ReceiveAsync);
        app.MapPost("/moved", () => Results.Redirect("/moved-here"));
        app.MapPost("/moved-here", () =>
        {
            Interlocked.Increment(ref receiver._redirectTargetHits);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    /// <summary>
    /// The receiver's check from docs/events.md: the Billing-Signature header is "t=TIMESTAMP,v1=HEX", and HEX must be
    /// HMAC-SHA256(secret, TIMESTAMP + "." + raw body), compared in constant time.
    /// </summary>
    public static bool SignatureIsValid(string header, string body, string secret)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var timestamp) || !parts.TryGetValue("v1", out var v1)) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(expected)), Encoding.ASCII.GetBytes(v1));
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            int seen;
            do seen = _maxInFlight; while (inFlight > seen && Interlocked.CompareExchange(ref _maxInFlight, inFlight, seen) != seen);
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var eventId = Guid.Parse(request.Headers["Billing-Event-Id"].ToString());
            var valid = SignatureIsValid(request.Headers["Billing-Signature"].ToString(), body, Secret);
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
            var tries = _tries.AddOrUpdate(eventId, 1, (_, n) => n + 1);
            var answer = !valid ? 400 : tries <= FailFirstTries ? 500 : 200;
            _received.Enqueue(new Received(eventId, request.Headers["Billing-Event-Type"].ToString(), body, valid, answer));
            return answer == 200 ? Results.Ok() : Results.Text("try later", statusCode: answer);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
