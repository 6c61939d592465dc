using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Engine.Accounting;

/// <summary>
/// The journal export and trial balance against a ledger the engine wrote over two billing months (payments, declines,
/// credit applied): each entry balances, the period's lines sum to the ledger's own totals, one period's closing balances
/// are the next one's opening balances, and saved account codes are the ones the next export writes.
/// </summary>
public sealed class JournalTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly JournalPeriod March = new(new DateOnly(2027, 3, 1), new DateOnly(2027, 3, 31));
    private static readonly JournalPeriod April = new(new DateOnly(2027, 4, 1), new DateOnly(2027, 4, 30));

    private MigratedDatabase _database = null!;
    private EngineServices _engine = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabases.CreateMigratedAsync("journal");
        _engine = EngineServices.Create(_database);
        var data = new BillingTestData(_database, _engine.Clock.GetUtcNow());
        var (_, usd) = await data.PlanAsync(25m);
        var (_, eur) = await data.PlanAsync(40m, "EUR");
        await data.DueSubscriptionsAsync(usd, 12, "pm_ok_", "pm_insufficient_funds_", "pm_ok_");
        await data.DueSubscriptionsAsync(eur, 4, "pm_ok_");
        await data.SubscriptionAsync(await data.CustomerAsync(credit: 40m), usd);
        var (_, yearly) = await data.PlanAsync(1200m, interval: BillingInterval.Year);
        await data.DueSubscriptionsAsync(yearly, 2, "pm_ok_");
        await _engine.RunBillingAsync();
        _engine.Clock.Advance(TimeSpan.FromDays(31));
        await _engine.RunBillingAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_periods_journal_balances_entry_by_entry_and_sums_to_the_ledger_and_its_trial_balance_rolls_into_the_next()
    {
        var journal = _engine.Get<JournalQueries>();
        var lines = await journal.StreamAsync(April, Ct).ToListAsync(Ct);

        Assert.NotEmpty(lines);
        Assert.All(lines.GroupBy(l => l.Entry), entry => Assert.Equal(entry.Sum(l => l.Debit), entry.Sum(l => l.Credit)));
        Assert.All(lines, line => Assert.Equal(AccountCodes.Default.CodeOf(line.Account), line.AccountCode));
        Assert.All(lines, line => Assert.InRange(line.Date, April.From, April.To));
        Assert.Contains(lines, l => l.Account == LedgerAccount.CustomerCredit);
        Assert.Equal(["EUR", "USD"], lines.Select(l => l.Currency).Distinct().Order(StringComparer.Ordinal));

        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var ledger = (await connection.QueryAsync<(string Currency, string Account, int Lines, decimal Debits, decimal Credits)>("""
            select currency, account, count(*)::int, sum(debit), sum(credit) from ledger_entries
            where occurred_at >= '2027-04-01T00:00:00Z' and occurred_at < '2027-05-01T00:00:00Z' group by currency, account
            """)).ToDictionary(r => (r.Currency, r.Account));
        var exported = lines.GroupBy(l => (l.Currency, l.Account.ToSnakeCase()))
            .ToDictionary(g => g.Key, g => (g.Key.Currency, g.Key.Item2, g.Count(), g.Sum(l => l.Debit), g.Sum(l => l.Credit)));
        Assert.Equal(ledger.OrderBy(p => p.Key).Select(p => p.Value), exported.OrderBy(p => p.Key).Select(p => p.Value));

        var april = await journal.TrialBalanceAsync(April, Ct);
        var march = await journal.TrialBalanceAsync(March, Ct);
        foreach (var currency in new[] { "USD", "EUR" })
        {
            var lastMonth = march.Where(l => l.Currency == currency).ToDictionary(l => l.Account);
            var thisMonth = april.Where(l => l.Currency == currency).ToList();
            Assert.Equal(thisMonth.Sum(l => l.Debits), thisMonth.Sum(l => l.Credits));
            Assert.Equal(0m, thisMonth.Sum(l => l.Closing));
            Assert.All(thisMonth, line => Assert.Equal(lastMonth.GetValueOrDefault(line.Account)?.Closing ?? 0m, line.Opening));
            Assert.All(thisMonth, line => Assert.Equal((ledger.GetValueOrDefault((currency, line.Account.ToSnakeCase())).Debits,
                ledger.GetValueOrDefault((currency, line.Account.ToSnakeCase())).Credits), (line.Debits, line.Credits)));
            var balances = (await connection.QueryAsync<(string Account, decimal Balance)>(
                "select account, sum(debit - credit) from ledger_entries where currency = @currency and occurred_at < '2027-05-01T00:00:00Z' group by account",
                new { currency })).ToDictionary(r => r.Account, r => r.Balance);
            Assert.Equal(balances.OrderBy(b => b.Key), thisMonth.ToDictionary(l => l.Account.ToSnakeCase(), l => l.Closing).OrderBy(b => b.Key));
        }
    }

    [Fact]
    public async Task Saved_account_codes_are_written_on_the_next_export_and_codes_given_twice_change_nothing()
    {
        var admin = new Actor("admin@example.test", "admin");
        var form = SaveAccountCodes.From(AccountCodes.Default);
        form.Codes[LedgerAccount.Revenue] = "REV-100";
        form.Codes[LedgerAccount.Cash] = "1200";
        form.Reason = "Our chart of accounts";
        var refused = await Assert.ThrowsAsync<ValidationException>(() => _engine.InScopeAsync<AccountingSettingsCommands, AccountCodes>(s => s.SaveAsync(form, admin, Ct)));
        Assert.Contains(refused.Errors, e => e.PropertyName is var field && (field == SaveAccountCodes.FieldOf(LedgerAccount.Receivable) || field == SaveAccountCodes.FieldOf(LedgerAccount.Cash)));
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal((0, 0), await connection.QuerySingleAsync<(int, int)>(
            "select (select count(*)::int from settings where key = 'accounting'), (select count(*)::int from audit_log where action = 'settings.account_codes_saved')"));

        form.Codes[LedgerAccount.Cash] = "1000.01";
        await _engine.InScopeAsync<AccountingSettingsCommands, AccountCodes>(s => s.SaveAsync(form, admin, Ct));

        var lines = await _engine.Get<JournalQueries>().StreamAsync(April, Ct).ToListAsync(Ct);
        Assert.All(lines.Where(l => l.Account == LedgerAccount.Revenue), l => Assert.Equal("REV-100", l.AccountCode));
        Assert.All(lines.Where(l => l.Account == LedgerAccount.Cash), l => Assert.Equal("1000.01", l.AccountCode));
        Assert.Contains(await _engine.Get<JournalQueries>().TrialBalanceAsync(April, Ct), l => l.Account == LedgerAccount.Revenue && l.Code == "REV-100");
        Assert.Equal(1, await connection.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'settings.account_codes_saved'"));
    }

    [Fact]
    public async Task Deferred_and_recognised_revenue_follow_each_lines_period_and_add_up_to_the_revenue_the_ledger_holds()
    {
        var recognition = _engine.Get<RevenueRecognitionQueries>();
        var april = await recognition.PeriodAsync(April, Ct);
        var march = await recognition.PeriodAsync(March, Ct);
        foreach (var currency in new[] { "USD", "EUR" })
        {
            Assert.Equal(march.Single(l => l.Currency == currency).DeferredClosing, april.Single(l => l.Currency == currency).DeferredOpening);
        }
        await AssertReconcilesAsync(april, April);
        // The annual plans' revenue is mostly still ahead at the end of April.
        Assert.True(april.Single(l => l.Currency == "USD").DeferredClosing > 1500m);

        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var annualInvoice = await connection.QuerySingleAsync<Guid>(
            "select invoice_id from invoice_lines where amount >= 1200 order by period_start limit 1");
        var schedule = await recognition.ScheduleAsync(annualInvoice, Ct);
        Assert.Equal(await connection.QuerySingleAsync<decimal>("select subtotal from invoices where id = @annualInvoice", new { annualInvoice }),
            schedule.Sum(m => m.Amount));
        Assert.Equal(13, schedule.Count);
    }

    [Fact]
    public async Task The_queue_of_lines_is_carried_over_from_the_queue_of_invoices_and_back()
    {
        var recognition = _engine.Get<RevenueRecognitionQueries>();
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        const string QueuedLines = "select string_agg(line_id || ' ' || kind || ' ' || changed_at || ' ' || amount, ',' order by line_id, kind) from revenue_recognition_pending_lines";
        var queued = await connection.QuerySingleAsync<string>(QueuedLines);
        var unfolded = await recognition.PeriodAsync(April, Ct);

        await using (var db = _database.NewContext()) await db.Database.MigrateAsync("EventTriggersAskOncePerStatement", Ct);
        Assert.Equal(await connection.QuerySingleAsync<long>("select count(distinct invoice_id) from invoice_lines l join invoices i on i.id = l.invoice_id where i.issued_at is not null"),
            await connection.QuerySingleAsync<long>("select count(*) from revenue_recognition_pending where kind = 'issued'"));

        await using (var db = _database.NewContext()) await db.Database.MigrateAsync(cancellationToken: Ct);
        Assert.Equal(queued, await connection.QuerySingleAsync<string>(QueuedLines));
        Assert.Equal(unfolded, await recognition.PeriodAsync(April, Ct));
    }

    [Fact]
    public async Task Folding_issued_and_voided_invoices_into_quarter_hours_changes_no_figure()
    {
        var recognition = _engine.Get<RevenueRecognitionQueries>();
        var recorder = _engine.Get<RevenueRecognitionRecorder>();
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var issuedLines = await connection.QuerySingleAsync<int>(
            "select count(*)::int from invoice_lines l join invoices i on i.id = l.invoice_id where i.issued_at is not null");

        // Nothing folded yet: every figure is computed from the lines themselves.
        var unfolded = await recognition.PeriodAsync(April, Ct);
        Assert.Equal(issuedLines, await recorder.FoldAsync(Ct));
        Assert.Equal(0, await recorder.FoldAsync(Ct));
        Assert.Equal(unfolded, await recognition.PeriodAsync(April, Ct));
        await AssertReconcilesAsync(unfolded, April);

        // An open invoice voided in April (its card declined) takes its revenue out of the figures from the void on.
        var voided = await connection.QuerySingleAsync<Guid>("select id from invoices where status = 'open' order by issued_at desc limit 1");
        await _engine.InScopeAsync<InvoiceCommands, InvoiceView>(c => c.VoidAsync(voided, new Actor("admin@example.test", "admin"), "Billed in error", Ct));
        var pendingVoid = await recognition.PeriodAsync(April, Ct);
        Assert.NotEqual(unfolded, pendingVoid);
        await AssertReconcilesAsync(pendingVoid, April);
        Assert.Equal(await connection.QuerySingleAsync<int>("select count(*)::int from invoice_lines where invoice_id = @voided", new { voided }),
            await recorder.FoldAsync(Ct));
        Assert.Equal(pendingVoid, await recognition.PeriodAsync(April, Ct));
        Assert.Equal(0, await connection.QuerySingleAsync<int>("select count(*)::int from revenue_recognition_pending_lines"));
    }

    /// <summary>
    /// Recomputes a period's figures line by line from the rows (the invoices issued and not voided before each instant),
    /// and checks that what has been invoiced is the revenue account's credit balance less the discounts given.
    /// </summary>
    private async Task AssertReconcilesAsync(IReadOnlyList<RevenueRecognitionLine> figures, JournalPeriod period)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        var lines = (await connection.QueryAsync<(string Currency, decimal Amount, DateTime Start, DateTime End, DateTime IssuedAt, DateTime? VoidedAt)>("""
            select l.currency, l.amount, l.period_start, l.period_end, i.issued_at, i.voided_at
            from invoice_lines l join invoices i on i.id = l.invoice_id where i.issued_at is not null
            """)).ToList();
        var (start, end) = period.Instants(TimeZoneInfo.Utc);
        decimal RecognizedBy(string currency, DateTimeOffset at) => RevenueRecognition.ToCent(lines
            .Where(l => l.Currency == currency && l.IssuedAt < at.UtcDateTime && (l.VoidedAt is not { } voidedAt || voidedAt >= at.UtcDateTime))
            .Sum(l => RevenueRecognition.ExactlyRecognizedBy(new RecognizedLine(l.Amount, Utc(l.Start), Utc(l.End)), at)));

        foreach (var currency in new[] { "USD", "EUR" })
        {
            var line = figures.Single(l => l.Currency == currency);
            Assert.Equal(line.DeferredOpening + line.Invoiced - line.Recognized, line.DeferredClosing);
            // Everything invoiced by the end of the period is the revenue account's credit balance then, less the discounts given.
            var revenue = await connection.QuerySingleAsync<decimal>("""
                select coalesce(sum(credit - debit), 0) from ledger_entries
                where account in ('revenue', 'discounts') and currency = @currency and occurred_at < @end
                """,
                new { currency, end });
            Assert.Equal(revenue, RecognizedBy(currency, end) + line.DeferredClosing);
            Assert.Equal(RecognizedBy(currency, end) - RecognizedBy(currency, start), line.Recognized);
        }
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
