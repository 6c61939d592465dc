using System.Text.Json;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Events;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Events;

/// <summary>A payment attempt as events show it: what was charged, and the outcome.</summary>
public sealed record PaymentView(Guid Id, Guid InvoiceId, Guid CustomerId, int AttemptNumber, decimal Amount, string Currency, string Status,
    string? DeclineCode, string? FailureMessage, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt)
{
    public static PaymentView From(PaymentAttempt a) => new(a.Id, a.InvoiceId, a.CustomerId, a.AttemptNumber, Amounts.Of(a.Amount), a.Currency,
        a.Status.ToSnakeCase(), a.DeclineCode, a.FailureMessage, a.Trigger.ToSnakeCase(), a.StartedAt, a.CompletedAt);
}

/// <summary>A dunning case as events show it: the invoice it collects, where it stands and what comes next.</summary>
public sealed record DunningCaseView(Guid Id, Guid InvoiceId, Guid CustomerId, Guid? SubscriptionId, decimal Amount, string Currency,
    string Status, int RetriesMade, string? LastDeclineCode, DateTimeOffset? NextAttemptAt, int EscalationStep, DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt)
{
    public static DunningCaseView From(DunningCase c) => new(c.Id, c.InvoiceId, c.CustomerId, c.SubscriptionId, Amounts.Of(c.Amount), c.Currency,
        c.Status.ToSnakeCase(), c.RetriesMade, c.LastDeclineCode, c.NextAttemptAt, c.EscalationStep, c.OpenedAt, c.ClosedAt);
}

/// <summary>What a receiver gets: the event's id, type and time, and the object as the API shows it.</summary>
public sealed record EventBody(Guid Id, string Type, DateTimeOffset CreatedAt, EventData Data);

public sealed record EventData(string ObjectType, object? Object);

/// <summary>Writes an event's body from its object, as it stands when the event is first sent.</summary>
public sealed class EventBodies(BillingDbContext db)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<string> RenderAsync(OutgoingEvent outgoing, CancellationToken ct)
    {
        var id = outgoing.ObjectId;
        object? view = outgoing.ObjectType switch
        {
            "invoice" => await db.Invoices.AsNoTracking().Include(i => i.Lines).SingleOrDefaultAsync(i => i.Id == id, ct) is { } i ? InvoiceView.From(i) : null,
            "payment" => await db.PaymentAttempts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, ct) is { } a ? PaymentView.From(a) : null,
            "subscription" => await db.Subscriptions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, ct) is { } s ? SubscriptionView.From(s) : null,
            "dunning_case" => await db.DunningCases.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct) is { } c ? DunningCaseView.From(c) : null,
            "customer" => await db.Customers.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct) is { } c ? CustomerView.From(c) : null,
            _ => throw new InvalidOperationException($"No body is written for objects of type '{outgoing.ObjectType}'."),
        };
        return JsonSerializer.Serialize(new EventBody(outgoing.Id, outgoing.Type, outgoing.CreatedAt, new EventData(outgoing.ObjectType, view)), Json);
    }
}
