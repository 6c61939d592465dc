using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// Writes finished dunning history through the domain: invoices whose billing-run charge failed, their cases, and the
/// dunning retries made for them, each at a given time. Collected by <see cref="Case"/> and written by <see cref="SaveAsync"/>.
/// </summary>
public sealed class DunningHistoryData(MigratedDatabase database, Guid customerId)
{
    private readonly List<Invoice> _invoices = [];
    private readonly List<PaymentAttempt> _attempts = [];
    private readonly List<DunningCase> _cases = [];

    /// <summary>A case opened at <paramref name="openedAt"/> by <paramref name="declineCode"/>; a successful retry recovers it.</summary>
    public DunningHistoryData Case(decimal amount, string currency, string declineCode, DateTimeOffset openedAt,
        (DateTimeOffset At, bool Succeeded)[] retries, DateTimeOffset? exhaustedAt = null, DateTimeOffset? nextAttemptAt = null)
    {
        var money = new Money(amount, currency);
        var invoice = new Invoice(customerId, null, InvoiceKind.OneOff, currency, openedAt, openedAt,
            [new InvoiceLine(InvoiceLineKind.OneOff, "Line", 1, money, money, openedAt, openedAt, null)], Money.Zero(currency), Money.Zero(currency), openedAt);
        invoice.Finalize($"INV-H{Guid.NewGuid():N}"[..20], openedAt, TimeSpan.FromDays(7));
        var attempts = new List<PaymentAttempt> { Attempt(invoice, 1, money, PaymentTrigger.BillingRun, openedAt, declineCode) };
        var dunningCase = new DunningCase(invoice.Id, customerId, null, money, 1, declineCode, openedAt);
        if (DeclineCodes.DefaultHard.Contains(declineCode)) dunningCase.RecordHardDecline(declineCode, openedAt);
        foreach (var (at, succeeded) in retries)
        {
            dunningCase.StartRetry(at);
            attempts.Add(Attempt(invoice, attempts.Count + 1, money, PaymentTrigger.DunningRetry, at, succeeded ? null : declineCode));
            if (succeeded) dunningCase.Recover(at);
            else dunningCase.RecordSoftDecline(declineCode, at);
        }
        if (exhaustedAt is { } end) dunningCase.Exhaust("mark_uncollectible", end);
        if (nextAttemptAt is { } next) dunningCase.Schedule(next, 0.2, "Test schedule");
        _invoices.Add(invoice);
        _attempts.AddRange(attempts);
        _cases.Add(dunningCase);
        return this;
    }

    public async Task SaveAsync(CancellationToken ct)
    {
        await using var db = database.NewContext();
        db.Invoices.AddRange(_invoices);
        db.PaymentAttempts.AddRange(_attempts);
        db.DunningCases.AddRange(_cases);
        await db.SaveChangesAsync(ct);
        _invoices.Clear();
        _attempts.Clear();
        _cases.Clear();
    }

    private PaymentAttempt Attempt(Invoice invoice, int number, Money amount, PaymentTrigger trigger, DateTimeOffset at, string? declineCode)
    {
        var attempt = new PaymentAttempt(invoice.Id, customerId, null, number, amount, "sandbox", trigger, at);
        if (declineCode is null) attempt.Succeed($"ch_{invoice.Number}", at, 100);
        else attempt.Fail(declineCode, "Declined.", null, at, 100);
        return attempt;
    }
}
