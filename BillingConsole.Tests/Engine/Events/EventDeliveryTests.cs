using System.Text.Json;
using BillingConsole.Domain.Events;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Events;
using BillingConsole.Engine.PayPage;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Events;

/// <summary>
/// Outgoing events over a real database, posted to a real HTTP receiver (a Kestrel app on loopback, allowed by
/// Events:AllowedNetworks) that checks every signature by the rule receivers are given.
/// </summary>
public sealed class EventDeliveryTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Actor Admin = new("admin@example.test", "admin");

    private MigratedDatabase _database = null!;
    private EventReceiver _receiver = null!;
    private EngineServices _engine = null!;
    private BillingTestData _data = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("events");
        _receiver = await EventReceiver.StartAsync();
        _engine = EngineServices.Create(_database, settings: Settings(allowLoopback: true));
        _data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }

    private static Dictionary<string, string?> Settings(bool allowLoopback, int maxInFlight = 4, int timeoutSeconds = 5)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Events:MaxInFlightPerEndpoint"] = maxInFlight.ToString(),
            ["Events:DeliveryLanes"] = "6",
            ["Events:TimeoutSeconds"] = timeoutSeconds.ToString(),
        };
        if (allowLoopback) settings["Events:AllowedNetworks:0"] = "127.0.0.0/8";
        return settings;
    }

    private async Task<RegisteredEventEndpoint> RegisterAsync(string url, IReadOnlyList<string> types, EngineServices? engine = null)
    {
        var registered = await (engine ?? _engine).InScopeAsync<EventEndpointCommands, RegisteredEventEndpoint>(c =>
            c.RegisterAsync(new RegisterEventEndpoint(url, types, "CRM"), Admin, "The CRM wants to know", Ct));
        _receiver.Secret = registered.Secret;
        return registered;
    }

    private Task<EventPass> DeliverAsync(EngineServices? engine = null) =>
        (engine ?? _engine).InScopeAsync<EventSender, EventPass>(s => s.RunDueAsync(Ct));

    /// <summary>Delivery passes an hour apart (longer than any backoff here) until nothing is pending.</summary>
    private async Task DeliverUntilDoneAsync()
    {
        for (var pass = 0; pass < 80 && await PendingAsync() > 0; pass++)
        {
            await DeliverAsync();
            _engine.Clock.Advance(TimeSpan.FromHours(1));
        }
        Assert.Equal(0, await PendingAsync());
    }

    private async Task<int> PendingAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<int>("select count(*)::int from event_deliveries where status = 'pending'");
    }

    private sealed record StoredEvent(Guid Id, long Sequence, string Type, string ObjectType, Guid ObjectId, Guid OrderingKey);

    private async Task<List<StoredEvent>> EventsAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<StoredEvent>(
            "select id, sequence, type, object_type as ObjectType, object_id as ObjectId, ordering_key as OrderingKey from events order by sequence")];
    }

    private async Task<List<EventDeliveryAttempt>> AttemptsAsync()
    {
        await using var db = _database.NewContext();
        return await db.EventDeliveryAttempts.AsNoTracking().OrderBy(a => a.AttemptedAt).ToListAsync(Ct);
    }

    [Fact]
    public async Task A_billing_run_a_failed_payment_and_a_recovery_arrive_signed_in_order_per_invoice_and_each_event_is_accepted_once_after_two_500s()
    {
        _receiver.FailFirstTries = 2;
        await RegisterAsync(_receiver.Url, EventTypes.All);
        var (_, price) = await _data.PlanAsync(20m);
        var paying = await _data.CustomerAsync("pm_ok_");
        var declining = await _data.CustomerAsync("pm_insufficient_funds_");
        await _data.SubscriptionAsync(paying, price);
        await _data.SubscriptionAsync(declining, price);

        await _engine.RunBillingAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(2));
        await _engine.InScopeAsync<CardUpdates, CardUpdate>(cards => cards.AttachAsync(declining.Id,
            new AttachPaymentMethod("sandbox", "pm_ok_" + Guid.NewGuid().ToString("N"), "visa", "4242", 12, 2031), Admin, "New card on the phone", Ct));
        await DeliverUntilDoneAsync();

        var events = await EventsAsync();
        await using var db = _database.NewContext();
        var declinedInvoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.CustomerId == declining.Id, Ct);
        var paidInvoice = await db.Invoices.AsNoTracking().SingleAsync(i => i.CustomerId == paying.Id, Ct);
        var declinedInvoiceEvents = events.Where(e => e.OrderingKey == declinedInvoice.Id).ToList();
        Assert.Equal(
            [EventTypes.InvoiceIssued, EventTypes.PaymentFailed, EventTypes.DunningCaseOpened, EventTypes.PaymentSucceeded, EventTypes.InvoicePaid, EventTypes.DunningCaseRecovered],
            declinedInvoiceEvents.Select(e => e.Type).OrderBy(RecoveryStep).ToList());
        Assert.Equal([EventTypes.InvoiceIssued, EventTypes.PaymentSucceeded, EventTypes.InvoicePaid],
            events.Where(e => e.OrderingKey == paidInvoice.Id).Select(e => e.Type).OrderBy(RecoveryStep).ToList());
        Assert.Contains(events, e => e.Type == EventTypes.SubscriptionCreated);

        // Every try was signed by the documented rule; each event was answered 500 twice, then accepted exactly once.
        Assert.All(_receiver.All, r => Assert.True(r.SignatureValid, $"{r.Type} {r.EventId} has a signature that does not verify"));
        Assert.Equal(events.Count * 3, _receiver.All.Count);
        var accepted = _receiver.Accepted;
        Assert.Equal(events.Select(e => e.Id).Order(), accepted.Select(r => r.EventId).Order());

        // Events of one invoice arrive in the order they happened, whatever the retries.
        Assert.Equal(declinedInvoiceEvents.Select(e => e.Id), accepted.Where(r => declinedInvoiceEvents.Any(e => e.Id == r.EventId)).Select(r => r.EventId));
        var issued = accepted.First(r => r.Type == EventTypes.InvoiceIssued && declinedInvoiceEvents.Any(e => e.Id == r.EventId));
        using var body = JsonDocument.Parse(issued.Body);
        Assert.Equal((issued.EventId, EventTypes.InvoiceIssued, "invoice", declinedInvoice.Id, declinedInvoice.Number),
            (body.RootElement.GetProperty("id").GetGuid(), body.RootElement.GetProperty("type").GetString(),
             body.RootElement.GetProperty("data").GetProperty("objectType").GetString(),
             body.RootElement.GetProperty("data").GetProperty("object").GetProperty("id").GetGuid(),
             body.RootElement.GetProperty("data").GetProperty("object").GetProperty("number").GetString()));

        var log = await AttemptsAsync();
        Assert.Equal(events.Count * 3, log.Count);
        Assert.Equal(events.Count * 2, log.Count(a => a is { StatusCode: 500, ResponseExcerpt: "try later" }));
    }

    private static int RecoveryStep(string type) => type switch
    {
        EventTypes.InvoiceIssued => 0,
        EventTypes.PaymentFailed => 1,
        EventTypes.DunningCaseOpened => 2,
        EventTypes.PaymentSucceeded => 3,
        EventTypes.InvoicePaid => 4,
        _ => 5,
    };

    [Fact]
    public async Task An_endpoint_on_loopback_link_local_or_a_private_network_is_refused_with_a_sentence_unless_an_admin_allowed_its_network()
    {
        await using var strict = EngineServices.Create(_database, settings: Settings(allowLoopback: false));
        foreach (var url in new[] { "http://127.0.0.1:9/events", "http://10.1.2.3/events", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/", "http://localhost:9/" })
        {
            var refused = await Assert.ThrowsAsync<ValidationException>(() => RegisterAsync(url, [EventTypes.InvoicePaid], strict));
            var error = Assert.Single(refused.Errors);
            Assert.Equal("url", error.PropertyName);
            Assert.Contains("is a loopback, link-local or private address; events are only sent there when an admin allows its network", error.ErrorMessage);
        }
        await using var db = _database.NewContext();
        Assert.Equal(0, await db.EventEndpoints.CountAsync(Ct));

        await using var allowsTen = EngineServices.Create(_database, settings: new Dictionary<string, string?> { ["Events:AllowedNetworks:0"] = "10.0.0.0/8" });
        var registered = await RegisterAsync("http://10.1.2.3/events", [EventTypes.InvoicePaid], allowsTen);
        Assert.Equal("http://10.1.2.3/events", registered.Endpoint.Url);
        await Assert.ThrowsAsync<ValidationException>(() => RegisterAsync("http://127.0.0.1:9/events", [EventTypes.InvoicePaid], allowsTen));
    }

    [Fact]
    public async Task A_registered_endpoint_whose_network_is_no_longer_allowed_is_refused_when_connecting_and_the_receiver_gets_nothing()
    {
        await RegisterAsync(_receiver.Url, [EventTypes.CustomerUpdated]);
        var customer = await _data.CustomerAsync();
        await RenameAsync(customer.Id);
        await using var strict = EngineServices.Create(_database, settings: Settings(allowLoopback: false));

        Assert.Equal(new EventPass(0, 1), await DeliverAsync(strict));

        Assert.Empty(_receiver.All);
        var attempt = Assert.Single(await AttemptsAsync());
        Assert.Null(attempt.StatusCode);
        Assert.StartsWith("127.0.0.1 is a loopback, link-local or private address", attempt.Error);
    }

    [Fact]
    public async Task A_redirecting_endpoint_is_not_followed_and_the_delivery_waits_with_the_reason()
    {
        await RegisterAsync(_receiver.RedirectingUrl, [EventTypes.CustomerUpdated]);
        var customer = await _data.CustomerAsync();
        await RenameAsync(customer.Id);

        Assert.Equal(new EventPass(0, 1), await DeliverAsync());

        Assert.Equal(0, _receiver.RedirectTargetHits);
        var attempt = Assert.Single(await AttemptsAsync());
        Assert.Equal(302, attempt.StatusCode);
        Assert.Contains("redirects are not followed", attempt.Error);
        await using var db = _database.NewContext();
        var delivery = await db.EventDeliveries.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((EventDeliveryStatus.Pending, 1), (delivery.Status, delivery.Attempts));
    }

    [Fact]
    public async Task No_more_deliveries_than_the_configured_number_are_in_flight_to_one_endpoint()
    {
        await using var capped = EngineServices.Create(_database, _engine.Clock, settings: Settings(allowLoopback: true, maxInFlight: 2));
        _receiver.Delay = TimeSpan.FromMilliseconds(150);
        await RegisterAsync(_receiver.Url, [EventTypes.CustomerUpdated]);
        for (var i = 0; i < 12; i++) await RenameAsync((await _data.CustomerAsync()).Id);

        Assert.Equal(new EventPass(12, 0), await DeliverAsync(capped));

        Assert.Equal(2, _receiver.MaxInFlight);
    }

    [Fact]
    public async Task The_signing_secret_is_stored_sealed_one_stored_in_clear_by_an_earlier_release_is_sealed_at_start_up_and_both_still_sign()
    {
        var registered = await RegisterAsync(_receiver.Url, [EventTypes.CustomerUpdated]);
        var stored = await StoredSecretAsync(registered.Endpoint.Id);
        Assert.DoesNotContain(registered.Secret, stored);
        Assert.DoesNotContain(registered.Secret[EndpointSecrets.Prefix.Length..], stored);
        await RenameAsync((await _data.CustomerAsync()).Id);
        Assert.Equal(new EventPass(1, 0), await DeliverAsync());

        // A row as the release before sealing stored it: the secret in clear.
        const string inClear = "whsec_stored_in_clear_by_an_earlier_release_0123";
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("update event_endpoints set sealed_secret = @inClear", new { inClear });
        Assert.Equal(1, await _engine.InScopeAsync<EndpointSecrets, int>(s => s.SealStoredInClearAsync(Ct)));
        Assert.Equal(0, await _engine.InScopeAsync<EndpointSecrets, int>(s => s.SealStoredInClearAsync(Ct)));
        Assert.DoesNotContain("stored_in_clear", await StoredSecretAsync(registered.Endpoint.Id));
        _receiver.Secret = inClear;
        await RenameAsync((await _data.CustomerAsync()).Id);
        Assert.Equal(new EventPass(1, 0), await DeliverAsync());

        Assert.Equal([true, true], _receiver.All.Select(r => r.SignatureValid));
    }

    private async Task<string> StoredSecretAsync(Guid endpointId)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<string>("select sealed_secret from event_endpoints where id = @endpointId", new { endpointId }) ?? "";
    }

    [Fact]
    public async Task A_receiver_slower_than_the_configured_timeout_is_a_failure_tried_again_later()
    {
        await using var impatient = EngineServices.Create(_database, _engine.Clock, settings: Settings(allowLoopback: true, timeoutSeconds: 1));
        _receiver.Delay = TimeSpan.FromSeconds(2);
        await RegisterAsync(_receiver.Url, [EventTypes.CustomerUpdated]);
        await RenameAsync((await _data.CustomerAsync()).Id);

        Assert.Equal(new EventPass(0, 1), await DeliverAsync(impatient));

        var attempt = Assert.Single(await AttemptsAsync());
        Assert.Equal(((int?)null, "No answer within 1 s."), (attempt.StatusCode, attempt.Error));
        Assert.True(attempt.LatencyMs >= 900, $"Gave up after {attempt.LatencyMs} ms, before the timeout");
    }

    [Fact]
    public async Task An_endpoint_that_fails_for_three_days_is_disabled_with_the_reason_gets_no_new_events_and_an_admin_can_send_a_delivery_again()
    {
        _receiver.FailFirstTries = int.MaxValue;
        var registered = await RegisterAsync(_receiver.Url, [EventTypes.CustomerUpdated]);
        var customer = await _data.CustomerAsync();
        await RenameAsync(customer.Id);

        await DeliverAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(1));
        await DeliverAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(2));
        await DeliverAsync();
        await RenameAsync(customer.Id);
        await DeliverAsync();

        await using (var db = _database.NewContext())
        {
            var endpoint = await db.EventEndpoints.AsNoTracking().SingleAsync(Ct);
            Assert.False(endpoint.Enabled);
            Assert.Contains("was not accepted for 3 days; the last try said: HTTP 500.", endpoint.DisabledReason);
            // The change made after it was disabled is not an event for it.
            var delivery = await db.EventDeliveries.AsNoTracking().SingleAsync(Ct);
            Assert.Equal((EventDeliveryStatus.Failed, 3), (delivery.Status, delivery.Attempts));
            Assert.Equal(3, _receiver.All.Count);
        }

        _receiver.FailFirstTries = 0;
        await _engine.InScopeAsync<EventEndpointCommands, EventEndpointView>(c => c.EnableAsync(registered.Endpoint.Id, Admin, "Their outage is over", Ct));
        var failed = (await _engine.InScopeAsync<EventEndpointQueries, IReadOnlyList<DeliveryLogEntry>>(q => q.DeliveryLogAsync(registered.Endpoint.Id, Ct)))[0];
        await _engine.InScopeAsync<EventEndpointCommands>(c => c.SendAgainAsync(failed.DeliveryId, Admin, "Resend after their outage", Ct));
        await DeliverUntilDoneAsync();

        var summary = Assert.Single(await _engine.InScopeAsync<EventEndpointQueries, IReadOnlyList<EventEndpointSummary>>(q => q.EndpointsAsync(Ct)));
        Assert.Equal((0, 1, 0, true), (summary.Pending, summary.Delivered, summary.Failed, summary.Endpoint.Enabled));
        Assert.Equal(failed.EventId, Assert.Single(_receiver.Accepted).EventId);
        Assert.Equal(4, (await _engine.InScopeAsync<EventEndpointQueries, IReadOnlyList<DeliveryLogEntry>>(q => q.DeliveryLogAsync(registered.Endpoint.Id, Ct))).Count);
    }

    private async Task RenameAsync(Guid customerId)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        await connection.ExecuteAsync("update customers set name = name || ' (renamed)' where id = @customerId", new { customerId });
    }
}
