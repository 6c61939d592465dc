using BillingConsole.Engine.Signing;
using System.Text;
using System.Text.Json;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BillingConsole.Api.Webhooks;

/// <summary>
/// POST /hooks/{gateway}: Stripe-style events ("stripe" and "sandbox" share the format). Address, then signature and
/// timestamp are checked before anything is read into the domain; an event id is applied once; payment outcomes go through
/// <see cref="PaymentProcessor.RecordReportedOutcomeAsync"/>, the event row and its effect in one transaction.
/// </summary>
public static class WebhookEndpoints
{
    public const int MaxBodyBytes = 256 * 1024;
    public const string SignatureFailedMessage = "Signature Validation Failed";

    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/hooks/{gateway}", ReceiveAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription()
            .RequireRateLimiting(Extensions.RateLimitingExtensions.WebhookPolicy);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string gateway, HttpContext context, IOptionsMonitor<WebhookOptions> options,
        BillingDbContext db, PaymentProcessor payments, RefundCommands refunds, DisputeCommands disputes, StripeCards stripeCards, TimeProvider clock,
        ILoggerFactory loggers)
    {
        // The console re-executes empty error responses as its HTML page; a gateway gets problems instead.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages) statusPages.Enabled = false;
        var logger = loggers.CreateLogger(typeof(WebhookEndpoints));
        var settings = options.CurrentValue;
        var ct = context.RequestAborted;
        if (!settings.Secrets.TryGetValue(gateway, out var secret) || string.IsNullOrEmpty(secret))
            return ApiProblems.Status(StatusCodes.Status404NotFound, $"No webhook secret is configured for gateway '{gateway}'.");

        var remote = context.Connection.RemoteIpAddress;
        if (!WebhookSignature.IsAllowed(remote, settings.Networks()))
        {
            await RejectAsync(db, gateway, "address not allowed", context, clock, ct);
            return ApiProblems.Status(StatusCodes.Status403Forbidden, "This address may not deliver webhooks.");
        }

        if (context.Request.ContentLength > MaxBodyBytes) return TooLarge();
        var body = await ApiRequestGuard.ReadUpToLimitAsync(context.Request.Body, MaxBodyBytes, ct);
        if (body is null) return TooLarge();

        var failure = WebhookSignature.Verify(context.Request.Headers[WebhookSignature.Header], body, secret, clock.GetUtcNow(),
            TimeSpan.FromSeconds(settings.ToleranceSeconds));
        if (failure is not null)
        {
            // Gateway and reason only: the secret and the signature header stay out of the logs.
            logger.Log(LogLevel.Warning, default, new SignatureFailure(gateway, failure), null, static (_, _) => SignatureFailedMessage);
            await RejectAsync(db, gateway, failure, context, clock, ct);
            return ApiProblems.Status(StatusCodes.Status400BadRequest, "The webhook signature could not be verified; nothing was changed.");
        }

        // Refused, not repaired: the gateway's own serializer never writes such text, and an event altered to fit could
        // settle an invoice on something other than what was signed. The refusal shows on the Operations page.
        if (UnstorableText(body) is { } unstorable)
        {
            await RejectAsync(db, gateway, unstorable, context, clock, ct);
            return ApiProblems.Status(StatusCodes.Status400BadRequest, $"The webhook body was refused: {unstorable}; nothing was changed.");
        }
        if (ReceivedEvent.Parse(body) is not { } received)
        {
            await RejectAsync(db, gateway, NotAnEventReason, context, clock, ct);
            return ApiProblems.Status(StatusCodes.Status400BadRequest, "The webhook body is not a JSON event with an id and a type; nothing was changed.");
        }

        try
        {
            if (gateway == StripeGateway.GatewayName && received.SetupIntentId is { } setupIntentId)
                return await ApplyCardEventAsync(gateway, received, body, () => stripeCards.CompleteAsync(setupIntentId, ct), db, clock, logger, ct);
            if (gateway == StripeGateway.GatewayName && received.UpdatedCard is { } card)
                return await ApplyCardEventAsync(gateway, received, body,
                    () => stripeCards.CardUpdatedAsync(card.Token, card.Last4, card.ExpMonth, card.ExpYear, ct), db, clock, logger, ct);
            return await ApplyAsync(gateway, received, body, db, payments, refunds, disputes, clock, ct);
        }
        catch (Exception e) when (ApiProblems.IsUnstorableText(e))
        {
            // A value PostgreSQL will not hold that the check above let through: refused like it, not redelivered for days.
            db.ChangeTracker.Clear();
            const string reason = "the database refused text in the event as not storable";
            await RejectAsync(db, gateway, reason, context, clock, ct);
            return ApiProblems.Status(StatusCodes.Status400BadRequest, $"The webhook body was refused: {reason}; nothing was changed.");
        }
    }

    private static async Task<IResult> ApplyAsync(string gateway, ReceivedEvent received, byte[] body, BillingDbContext db, PaymentProcessor payments,
        RefundCommands refunds, DisputeCommands disputes, TimeProvider clock, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var now = clock.GetUtcNow();
            var payload = Encoding.UTF8.GetString(body);
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
                insert into webhook_events (gateway, event_id, type, received_at, processed_at, payload)
                values ({gateway}, {received.Id}, {received.Type}, {now}, null, {payload}::jsonb)
                on conflict do nothing
                """, ct);
            if (inserted == 0) return Results.Ok(new { received.Id, Status = "duplicate" });

            var result = received.Outcome is { } outcome
                ? await payments.RecordReportedOutcomeAsync(received.IdempotencyKey, received.Reference, outcome, ct)
                : null;
            // The event is rolled back with the lock refused, so the gateway's redelivery applies it later.
            if (result?.Status == ChargeStatus.Busy)
                return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, "The invoice is being charged; deliver the event again.");
            var applied = result?.Status is ChargeStatus.Succeeded or ChargeStatus.Failed or ChargeStatus.RefundDue;
            foreach (var (key, answer) in received.Refunds)
            {
                if (await refunds.ApplyReportedAsync(key, answer, ct) is not null) applied = true;
            }
            if (received.Dispute is { } dispute && await disputes.ApplyReportedAsync(dispute, ct) is not null) applied = true;
            // processed_at stays null for an event that was stored but ignored (unknown type, no attempt, already settled).
            if (applied)
            {
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"update webhook_events set processed_at = {now} where gateway = {gateway} and event_id = {received.Id}", ct);
            }
            await transaction.CommitAsync(ct);
            return Results.Ok(new { received.Id, Status = applied ? "applied" : "ignored" });
        });
    }

    /// <summary>
    /// A card saved or updated at Stripe: applied (the card attached or updated, the open dunning invoices charged to it) first,
    /// the event recorded after. Applying is idempotent, so an event lost between the two is delivered again and changes nothing more.
    /// </summary>
    private static async Task<IResult> ApplyCardEventAsync(string gateway, ReceivedEvent received, byte[] body, Func<Task<CardUpdate?>> apply,
        BillingDbContext db, TimeProvider clock, ILogger logger, CancellationToken ct)
    {
        if (await db.WebhookEvents.AnyAsync(e => e.Gateway == gateway && e.EventId == received.Id, ct)) return Results.Ok(new { received.Id, Status = "duplicate" });
        CardUpdate? update;
        try
        {
            update = await apply();
        }
        catch (Stripe.StripeException e)
        {
            logger.LogWarning("Stripe could not be asked about the card of event {EventId}: {StripeError}", received.Id, e.StripeError?.Message ?? e.Message);
            return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, "Stripe could not be asked about the card; deliver the event again.");
        }
        db.ChangeTracker.Clear();
        var now = clock.GetUtcNow();
        DateTimeOffset? processed = update is null ? null : now;
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            insert into webhook_events (gateway, event_id, type, received_at, processed_at, payload)
            values ({gateway}, {received.Id}, {received.Type}, {now}, {processed}, {Encoding.UTF8.GetString(body)}::jsonb)
            on conflict do nothing
            """, ct);
        return Results.Ok(new { received.Id, Status = update is null ? "ignored" : "applied" });
    }

    public const string NotAnEventReason = "not a JSON event with an id and a type";

    /// <summary>
    /// Why the signed body cannot be stored as it is (webhook_events.payload is jsonb), with where: bytes that are not UTF-8,
    /// a string that does not decode (an escaped lone surrogate), or NUL; null when it can be, or when it is not JSON at all.
    /// </summary>
    public static string? UnstorableText(byte[] body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body)) return "the body is not valid UTF-8";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
        using (document)
        {
            foreach (var (field, value) in JsonText.Values(document.RootElement))
            {
                var fault = value is null ? "is not valid Unicode (a lone surrogate)" : PlainText.StorageFault(value);
                if (fault is not null) return Truncate($"the text at {(field.Length == 0 ? "the top level" : field)} {fault}");
            }
        }
        return null;
    }

    /// <summary>webhook_rejections.reason holds 200 characters.</summary>
    private static string Truncate(string reason) => reason.Length <= 200 ? reason : reason[..199] + "…";

    private static IResult TooLarge() =>
        ApiProblems.Status(StatusCodes.Status413PayloadTooLarge, $"The webhook body is larger than {MaxBodyBytes / 1024} KB.");

    private static async Task RejectAsync(BillingDbContext db, string gateway, string reason, HttpContext context, TimeProvider clock, CancellationToken ct)
    {
        db.WebhookRejections.Add(new WebhookRejection
        {
            Gateway = gateway[..Math.Min(gateway.Length, 40)],
            Reason = reason,
            RemoteAddress = context.Connection.RemoteIpAddress?.ToString(),
            ReceivedAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The structured state of the refusal log: its message is exactly <see cref="SignatureFailedMessage"/>.</summary>
    private sealed class SignatureFailure(string gateway, string reason) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _properties =
            [new("Gateway", gateway), new("Reason", reason), new("{OriginalFormat}", SignatureFailedMessage)];

        public KeyValuePair<string, object?> this[int index] => _properties[index];
        public int Count => _properties.Length;
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_properties).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _properties.GetEnumerator();
        public override string ToString() => SignatureFailedMessage;
    }

    /// <summary>The parts of a Stripe-style event this console uses.</summary>
    /// <param name="SetupIntentId">The SetupIntent of a card the customer saved with Stripe (setup_intent.succeeded, or a completed Checkout Session in setup mode).</param>
    /// <param name="UpdatedCard">A card the network's updater replaced (payment_method.automatically_updated).</param>
    /// <param name="Dispute">A dispute on one of our payments (charge.dispute.created, .updated, .closed, .funds_withdrawn, .funds_reinstated).</param>
    /// <param name="Refunds">Refund outcomes the event reports (refund.created, refund.updated, refund.failed, charge.refunded),
    /// each by the idempotency key our refund was sent under.</param>
    private sealed record ReceivedEvent(string Id, string Type, string? IdempotencyKey, string? Reference, GatewayChargeResult? Outcome,
        string? SetupIntentId = null, UpdatedCard? UpdatedCard = null, IReadOnlyList<(string Key, GatewayRefundResult Answer)>? ReportedRefunds = null,
        ReportedDispute? Dispute = null)
    {
        public IReadOnlyList<(string Key, GatewayRefundResult Answer)> Refunds => ReportedRefunds ?? [];

        /// <summary>Null when the body is not a JSON object with a string id and type that fit their columns.</summary>
        public static ReceivedEvent? Parse(byte[] body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || Text(root, "id") is not { Length: > 0 and <= 120 } id
                    || Text(root, "type") is not { Length: > 0 and <= 80 } type)
                    return null;
                var payment = root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                    && data.TryGetProperty("object", out var o) && o.ValueKind == JsonValueKind.Object
                        ? o
                        : default;
                if (payment.ValueKind != JsonValueKind.Object) return new ReceivedEvent(id, type, null, null, null);
                var reference = Text(payment, "id");
                var key = payment.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                    ? Text(metadata, "idempotency_key")
                    : null;
                var error = payment.TryGetProperty("last_payment_error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
                GatewayChargeResult? outcome = type switch
                {
                    "payment_intent.succeeded" => GatewayChargeResult.Succeeded(reference ?? string.Empty, TimeSpan.Zero),
                    "payment_intent.payment_failed" => GatewayChargeResult.Declined(
                        (error.ValueKind == JsonValueKind.Object ? Text(error, "decline_code") : null) ?? DeclineCodes.GenericDecline,
                        (error.ValueKind == JsonValueKind.Object ? Text(error, "message") : null) ?? "Declined (reported by webhook).",
                        reference, TimeSpan.Zero),
                    _ => null,
                };
                var setupIntent = type switch
                {
                    "setup_intent.succeeded" => reference,
                    "checkout.session.completed" when Text(payment, "mode") == "setup" => Text(payment, "setup_intent"),
                    _ => null,
                };
                IReadOnlyList<(string, GatewayRefundResult)> reportedRefunds = type switch
                {
                    "refund.created" or "refund.updated" or "refund.failed" => [.. ReportedRefund(payment)],
                    // A charge lists its refunds: the ones of ours carry our key.
                    "charge.refunded" when payment.TryGetProperty("refunds", out var list) && list.ValueKind == JsonValueKind.Object
                        && list.TryGetProperty("data", out var refundObjects) && refundObjects.ValueKind == JsonValueKind.Array
                        => [.. refundObjects.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.Object).SelectMany(ReportedRefund)],
                    _ => [],
                };
                return new ReceivedEvent(id, type, key, reference, outcome, setupIntent,
                    type == "payment_method.automatically_updated" ? UpdatedCard.Parse(payment) : null, reportedRefunds,
                    type.StartsWith("charge.dispute.", StringComparison.Ordinal) ? DisputeOf(payment) : null);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>A Stripe refund object's outcome under the key in its metadata; nothing for a refund without our key.</summary>
        private static IEnumerable<(string, GatewayRefundResult)> ReportedRefund(JsonElement refund)
        {
            if (!refund.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
                || Text(metadata, StripeGateway.KeyMetadata) is not { Length: > 0 } refundKey)
                yield break;
            var status = StripeGateway.RefundStatusOf(Text(refund, "status"));
            yield return (refundKey, new GatewayRefundResult(status, Text(refund, "id"),
                status == GatewayRefundStatus.Failed ? Text(refund, "failure_reason") ?? "The gateway reported the refund failed." : null, TimeSpan.Zero));
        }

        /// <summary>
        /// A Stripe dispute object: amounts in minor units, the fee from the balance transactions that withdrew funds, the evidence
        /// due date in Unix seconds, the reason cut to its column. Null when a part it needs is missing.
        /// </summary>
        private static ReportedDispute? DisputeOf(JsonElement dispute)
        {
            if (Text(dispute, "id") is not { Length: > 0 and <= 120 } id || Text(dispute, "status") is not { } status
                || Text(dispute, "currency") is not { } currency || !Currencies.IsKnown(currency)
                || !dispute.TryGetProperty("amount", out var amount) || !amount.TryGetInt64(out var amountMinor))
                return null;
            var fee = dispute.TryGetProperty("balance_transactions", out var transactions) && transactions.ValueKind == JsonValueKind.Array
                ? transactions.EnumerateArray()
                    .Where(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("amount", out var moved) && moved.TryGetInt64(out var m) && m < 0)
                    .Sum(t => t.TryGetProperty("fee", out var f) && f.TryGetInt64(out var minor) ? minor : 0)
                : 0;
            DateTimeOffset? dueBy = dispute.TryGetProperty("evidence_details", out var evidence) && evidence.ValueKind == JsonValueKind.Object
                && evidence.TryGetProperty("due_by", out var due) && due.TryGetInt64(out var seconds)
                    ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                    : null;
            string[] references = [.. new[] { Text(dispute, "charge"), Text(dispute, "payment_intent") }.OfType<string>()];
            return new ReportedDispute(id, references, status, StripeGateway.FromMinorUnits(amountMinor, currency),
                StripeGateway.FromMinorUnits(fee, currency), Text(dispute, "reason") is { } reason ? reason[..Math.Min(reason.Length, 60)] : "general", dueBy);
        }

        internal static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>A Stripe payment method's new card details, as the stored token "cus_…/pm_…" names it.</summary>
    private sealed record UpdatedCard(string Token, string Last4, int ExpMonth, int ExpYear)
    {
        public static UpdatedCard? Parse(JsonElement paymentMethod)
        {
            if (ReceivedEvent.Text(paymentMethod, "id") is not { } id || ReceivedEvent.Text(paymentMethod, "customer") is not { } customer
                || !paymentMethod.TryGetProperty("card", out var card) || card.ValueKind != JsonValueKind.Object
                || ReceivedEvent.Text(card, "last4") is not { } last4
                || !card.TryGetProperty("exp_month", out var month) || !month.TryGetInt32(out var expMonth)
                || !card.TryGetProperty("exp_year", out var year) || !year.TryGetInt32(out var expYear))
                return null;
            return new UpdatedCard($"{customer}/{id}", last4, expMonth, expYear);
        }
    }
}
