using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine;
using BillingConsole.Engine.Commands;
using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace BillingConsole.Tests.Persistence;

/// <summary>The engine tests' demo database (<see cref="DemoDatabases.Standard"/>), shared by the read-only checks below.</summary>
public sealed class GeneratedDemoDatabase : IAsyncLifetime
{
    public static DemoDataOptions Options => DemoDatabases.Standard;

    /// <summary>A small history, played twice by the determinism check.</summary>
    public static readonly DemoDataOptions Small = new()
    {
        Seed = 42,
        Customers = 40,
        MonthsOfHistory = 4,
        Now = new DateTimeOffset(2026, 11, 26, 10, 30, 0, TimeSpan.Zero),
    };

    private MigratedDatabase? _database;

    public MigratedDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");
    public DemoDataSummary Summary { get; private set; } = null!;

    public async ValueTask InitializeAsync() => (_database, Summary) = await DemoDatabases.CreateAsync("demo", Options);

    public async ValueTask DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }

    public static async Task<DemoDataSummary> Generate(MigratedDatabase database, DemoDataOptions options) =>
        await DemoDatabases.GenerateAsync(database, options);
}

public sealed class DemoDataGeneratorTests(GeneratedDemoDatabase demo) : IClassFixture<GeneratedDemoDatabase>
{
    private static readonly string[] Tables =
    [
        "plans", "prices", "customers", "payment_methods", "subscriptions", "invoices", "invoice_lines", "payment_attempts",
        "dunning_cases", "dunning_policies", "ledger_entries", "billing_runs", "audit_log", "mrr_snapshots", "mrr_movements",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private NpgsqlDataSource Db => demo.Database.DataSource;

    [Fact]
    public async Task The_same_seed_gives_the_same_data_and_another_seed_does_not()
    {
        var small = GeneratedDemoDatabase.Small;
        await using var first = await TestDatabases.CreateMigratedAsync("demo");
        var summary = await GeneratedDemoDatabase.Generate(first, small);
        await using var again = await TestDatabases.CreateMigratedAsync("demo");
        var replayed = await GeneratedDemoDatabase.Generate(again, small);

        Assert.True(summary.Count("invoices") > 20, $"only {summary.Count("invoices")} invoices in the small history");
        Assert.Equal(summary.RowCounts, replayed.RowCounts);
        Assert.Equal(summary.Totals, replayed.Totals);
        // The engine makes new ids each time; everything a person reads is the same.
        foreach (var digest in ContentDigests)
            Assert.Equal(await Scalar<string>(first.DataSource, digest), await Scalar<string>(again.DataSource, digest));

        await using var other = await TestDatabases.CreateMigratedAsync("demo");
        var different = await GeneratedDemoDatabase.Generate(other, small with { Seed = 7 });
        Assert.NotEqual(summary.Totals, different.Totals);
    }

    private static readonly string[] ContentDigests =
    [
        "select md5(string_agg(concat_ws('|', number, status, total, credit_applied, amount_paid, issued_at, paid_at), ',' order by number)) from invoices",
        "select md5(string_agg(concat_ws('|', kind, account, debit, credit, occurred_at), ',' order by occurred_at, kind, account, debit, credit)) from ledger_entries",
        "select md5(string_agg(concat_ws('|', status, decline_code, started_at, amount), ',' order by started_at, status, decline_code, amount)) from payment_attempts",
        "select md5(string_agg(concat_ws('|', name, email, credit_balance), ',' order by email, name)) from customers",
        "select md5(string_agg(concat_ws('|', kind, status, created_at), ',' order by created_at, kind, status)) from notifications",
    ];

    [Fact]
    public async Task The_summary_counts_and_totals_match_the_database()
    {
        foreach (var table in Tables)
            Assert.Equal(demo.Summary.Count(table), await Scalar<long>(Db, $"select count(*) from {table}"));

        Assert.NotEmpty(demo.Summary.Totals);
        foreach (var balance in demo.Summary.Totals)
        {
            Assert.Equal(balance.Balance, await Scalar<decimal>(Db,
                "select sum(debit) - sum(credit) from ledger_entries where currency = $1 and account = $2", balance.Currency, balance.Account));
        }
        // Every invoiced amount is in exactly one place: credit applied, paid, written off, voided or still owed.
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from (
                select currency, sum(total) as invoiced, sum(credit_applied) + sum(amount_paid) + sum(amount_written_off)
                       + coalesce(sum(total - credit_applied) filter (where status = 'void'), 0) + sum(amount_due) as placed
                from invoices group by currency) t
            where invoiced <> placed
            """));
    }

    [Fact]
    public async Task Every_invoice_adds_up()
    {
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from invoices i
            where i.subtotal <> (select coalesce(sum(l.amount), 0) from invoice_lines l where l.invoice_id = i.id)
               or i.total <> i.subtotal + i.tax
               or i.total <= 0
               or (i.status = 'paid' and (i.amount_paid <> i.total - i.credit_applied or i.paid_at is null))
               or (i.status = 'uncollectible' and (i.amount_written_off <> i.total - i.credit_applied or i.marked_uncollectible_at is null))
               or (i.status = 'void' and i.voided_at is null)
               or (i.status <> 'paid' and i.amount_paid <> 0)
               or i.issued_at is null or i.due_at is null
            """));
        Assert.Equal(0L, await Scalar<long>(Db,
            "select count(*) from invoices where number !~ '^INV-[0-9]{6,}$'"));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from (
                select number, issued_at, lag(issued_at) over (order by number) as previous from invoices) n
            where date_trunc('day', issued_at) < date_trunc('day', previous)
            """));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from invoice_lines l join invoices i on i.id = l.invoice_id
            where (i.kind = 'subscription_cycle') <> (l.kind = 'recurring') or l.currency <> i.currency
            """));
    }

    [Fact]
    public async Task Every_subscription_ends_its_period_on_its_anchor_day()
    {
        // Demo periods are in UTC; an anchor day past the month's end falls on its last day.
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from subscriptions
            where extract(day from current_period_end at time zone 'UTC')
                  <> least(billing_anchor_day, extract(day from date_trunc('month', current_period_end at time zone 'UTC') + interval '1 month - 1 day'))
            """));
        Assert.True(await Scalar<long>(Db, "select count(*) from subscriptions where trial_end is not null and billing_anchor_day <> extract(day from created_at at time zone 'UTC')") > 0,
            "Some trials end on another day of the month than they started, so the anchor follows the trial.");
    }

    [Fact]
    public async Task Every_billable_subscriptions_next_invoice_is_one_interval_long_or_a_prorated_stub()
    {
        await using var engine = EngineServices.Create(demo.Database);
        await using var scope = engine.Services.CreateAsyncScope();
        var calendar = scope.ServiceProvider.GetRequiredService<BillingCalendar>();
        await using var connection = await Db.OpenConnectionAsync(Ct);
        var subscriptions = (await connection.QueryAsync<(Guid Id, int AnchorDay)>("""
            select id, billing_anchor_day from subscriptions where status in ('trialing', 'active', 'past_due') and not cancel_at_period_end
            """)).ToList();
        var intervals = (await connection.QueryAsync<(Guid Id, string Interval)>("select id, interval from prices"))
            .ToDictionary(p => p.Id, p => p.Interval == "year" ? BillingInterval.Year : BillingInterval.Month);
        Assert.True(subscriptions.Count > 100, $"Only {subscriptions.Count} billable subscriptions.");

        foreach (var (id, anchorDay) in subscriptions)
        {
            // What the subscription page's preview shows.
            var upcoming = await engine.InScopeAsync<SubscriptionCommands, InvoiceView?>(commands => commands.UpcomingInvoiceAsync(id, Ct));
            Assert.NotNull(upcoming);
            var line = upcoming.Lines[0];
            var interval = intervals[line.PriceId!.Value];
            var (start, end) = (upcoming.PeriodStart, upcoming.PeriodEnd);
            Assert.Equal((id, start, end), (id, line.PeriodStart, line.PeriodEnd));
            if (calendar.IsAnchorDate(start, anchorDay))
            {
                Assert.Equal((id, "recurring", calendar.NextPeriodEnd(start, interval, anchorDay), line.UnitAmount * line.Quantity),
                    (id, line.Kind, end, line.Amount));
            }
            else
            {
                var wholeStart = calendar.PreviousPeriodStart(end, interval, anchorDay);
                var prorated = Math.Round(line.UnitAmount * line.Quantity * (long)(end - start).TotalSeconds / (long)(end - wholeStart).TotalSeconds,
                    2, MidpointRounding.AwayFromZero);
                Assert.Equal((id, "proration_charge", prorated), (id, line.Kind, line.Amount));
            }
        }
    }

    [Fact]
    public async Task Every_paid_invoice_has_exactly_one_succeeded_attempt_and_no_other_invoice_has_one()
    {
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from invoices i
            where (select count(*) from payment_attempts a where a.invoice_id = i.id and a.status = 'succeeded')
                  <> case when i.status = 'paid' and i.total > i.credit_applied then 1 else 0 end
               or i.attempt_count <> (select count(*) from payment_attempts a where a.invoice_id = i.id)
            """));
        Assert.Equal("", await Scalar<string>(Db, """
            select coalesce(string_agg(concat_ws(' ', a.idempotency_key, a.invoice_id, a.amount, i.total, i.credit_applied, a.status,
                                                 a.gateway_reference, a.decline_code, a.started_at, a.completed_at), ', '), '')
            from (select a.* from payment_attempts a join invoices i on i.id = a.invoice_id
                  where a.idempotency_key <> 'inv_' || replace(a.invoice_id::text, '-', '') || '_att_' || a.attempt_number
                     or a.amount <> i.total - i.credit_applied
                     or (a.status = 'succeeded' and a.gateway_reference not like 'ch_sandbox_%')
                     or (a.status = 'failed') <> (a.decline_code is not null and a.decline_code <> 'ERR_GATEWAY_TIMEOUT')
                     or a.completed_at < a.started_at or a.completed_at > $1
                  limit 5) a join invoices i on i.id = a.invoice_id
            """, GeneratedDemoDatabase.Options.Now));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from (
                select invoice_id, array_agg(attempt_number order by attempt_number) as numbers, count(*) as n
                from payment_attempts group by invoice_id) a
            where a.numbers <> array(select generate_series(1, a.n::int))
            """));
    }

    [Fact]
    public async Task Every_ledger_transaction_balances()
    {
        Assert.True(await Scalar<long>(Db, "select count(distinct transaction_id) from ledger_entries") > 0);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from (
                select transaction_id from ledger_entries group by transaction_id
                having sum(debit) <> sum(credit) or count(distinct kind) <> 1 or count(distinct currency) <> 1) t
            """));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from invoices i
            where i.total <> (select coalesce(sum(debit), 0) from ledger_entries e
                              where e.invoice_id = i.id and e.kind = 'invoice_issued' and e.account = 'receivable')
               or i.amount_paid <> (select coalesce(sum(debit), 0) from ledger_entries e
                                    where e.invoice_id = i.id and e.kind = 'payment' and e.account = 'cash')
            """));
    }

    [Fact]
    public async Task Each_customers_receivable_equals_what_their_open_invoices_still_owe()
    {
        Assert.True(await Scalar<long>(Db, "select count(*) from invoices where status = 'open'") > 0);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from customers c
            where (select coalesce(sum(debit - credit), 0) from ledger_entries e where e.customer_id = c.id and e.account = 'receivable')
               <> (select coalesce(sum(amount_due), 0) from invoices i where i.customer_id = c.id)
            """));
    }

    [Fact]
    public async Task Each_customers_credit_balance_equals_their_ledger_customer_credit()
    {
        Assert.True(await Scalar<long>(Db, "select count(*) from ledger_entries where kind = 'credit_granted'") > 0);
        Assert.True(await Scalar<long>(Db, "select count(*) from invoices where credit_applied > 0") > 0);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from customers c
            where c.credit_balance <> (select coalesce(sum(credit - debit), 0) from ledger_entries e
                                       where e.customer_id = c.id and e.account = 'customer_credit')
               or c.credit_balance < 0
            """));
    }

    [Fact]
    public async Task Subscriptions_are_in_a_state_the_engine_could_have_left_them_in()
    {
        var now = GeneratedDemoDatabase.Options.Now;
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from subscriptions
            where (status in ('trialing', 'active', 'past_due') and not (current_period_start <= $1 and $1 < current_period_end))
               or ((status = 'canceled') <> (canceled_at is not null and cancellation_kind is not null))
               or ((status = 'paused') <> (paused_at is not null))
               or (status = 'trialing' and trial_end is null)
               or (cancel_at_period_end and status <> 'active')
            """, now));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from invoices i join subscriptions s on s.id = i.subscription_id
            where i.kind = 'subscription_cycle' and i.period_start > s.current_period_start
            """));
        // Every open case's subscription is past due or unpaid; a past-due or unpaid subscription has an open case, or one
        // the policy's final action ended by marking the invoice uncollectible (which leaves the subscription as it was).
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from subscriptions s
            where (s.status not in ('past_due', 'unpaid') and exists (select 1 from dunning_cases d where d.subscription_id = s.id
                          and d.status in ('retry_pending', 'retrying', 'awaiting_payment_method')))
               or (s.status in ('past_due', 'unpaid') and not exists (select 1 from dunning_cases d where d.subscription_id = s.id
                          and d.status in ('retry_pending', 'retrying', 'awaiting_payment_method', 'exhausted')))
            """));
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from dunning_cases d join invoices i on i.id = d.invoice_id
            where (d.status = 'recovered' and i.status <> 'paid')
               or (d.status = 'exhausted' and (i.status <> 'uncollectible' or d.final_action <> 'mark_uncollectible'))
               or (d.status = 'closed' and i.status <> 'void')
               or (d.status in ('retry_pending', 'awaiting_payment_method') and (i.status <> 'open' or d.closed_at is not null))
               or (d.status = 'retry_pending' and (d.next_attempt_at is null or d.next_attempt_at <= $1 or d.next_attempt_at > $1 + interval '21 days'
                                                   or d.next_attempt_probability is null or d.next_attempt_reason is null))
               or (d.status = 'awaiting_payment_method' and d.next_attempt_at is not null)
               or d.policy_version <> 1 or d.retries_made > 15
            """, now));
        var statuses = await Strings(Db, "select distinct status from subscriptions");
        Assert.Superset(new HashSet<string> { "trialing", "active", "past_due", "canceled" }, statuses);
        var invoiceStatuses = await Strings(Db, "select distinct status from invoices");
        Assert.Superset(new HashSet<string> { "paid", "open", "uncollectible" }, invoiceStatuses);
        var caseStatuses = await Strings(Db, "select distinct status from dunning_cases");
        Assert.Superset(new HashSet<string> { "recovered", "exhausted", "retry_pending" }, caseStatuses);
        var kinds = await Strings(Db, "select distinct cancellation_kind from subscriptions where cancellation_kind is not null");
        // The default policy's final action marks the invoice uncollectible; only a policy that cancels makes involuntary ones.
        Assert.Contains("voluntary", kinds);
        Assert.Subset(new HashSet<string> { "voluntary", "involuntary" }, kinds);
    }

    [Fact]
    public async Task The_history_is_the_engines_own_ladder_steps_emails_and_customers_answering_them()
    {
        // Every day a case passed on the policy's ladder shows the step the engine took that day, once.
        var ladderDays = DunningPolicySettings.Default.Ladder.Select(step => step.Day).ToArray();
        Assert.True(await Scalar<long>(Db, "select count(*) from dunning_case_steps") > 0);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from dunning_cases d, unnest($1::int[]) as day
            where coalesce(d.closed_at, $2) >= d.opened_at + make_interval(days => day) + interval '1 hour'
              and not exists (select 1 from dunning_case_steps s where s.case_id = d.id and s.day = day)
            """, ladderDays, GeneratedDemoDatabase.Options.Now));
        // Emails: written for each event by the engine; the last days' sent, older ones given up as too late.
        Assert.True(await Scalar<long>(Db, "select count(*) from notifications where kind = 'payment_failed'") > 0);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from notifications where status = 'pending' and created_at < $1 - interval '72 hours'
            """, GeneratedDemoDatabase.Options.Now));
        // Customers answered: new cards on the pay page paid failed invoices, and support retried at customers' request.
        Assert.True(await Scalar<long>(Db, "select count(*) from payment_attempts where trigger = 'new_payment_method' and status = 'succeeded'") > 0);
        Assert.True(await Scalar<long>(Db, "select count(*) from payment_attempts where trigger = 'manual'") > 0);
        // Every invoice came from a billing run, a sign-up or a plan change the engine made; every open case is on the current policy.
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from dunning_cases where status in ('retry_pending', 'awaiting_payment_method')
              and policy_version <> (select max(version) from dunning_policies)
            """));
        Assert.True(await Scalar<long>(Db, "select count(*) from billing_runs where trigger = 'schedule'") > 300);
    }

    [Fact]
    public async Task Decline_codes_follow_a_realistic_mix()
    {
        await using var command = Db.CreateCommand("""
            select decline_code, count(*) from payment_attempts a
            where status = 'failed' and attempt_number = 1
            group by decline_code
            """);
        var counts = new Dictionary<string, long>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct)) counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        var total = counts.Values.Sum();
        Assert.True(total > 50, $"only {total} first-attempt failures");
        var insufficient = counts.GetValueOrDefault("insufficient_funds") / (double)total;
        Assert.InRange(insufficient, 0.30, 0.60);
        Assert.True(counts.GetValueOrDefault("do_not_honor") > counts.GetValueOrDefault("fraudulent"));
        Assert.All(counts.Keys, code => Assert.Contains(code, DeclineCodes.All));
    }

    [Fact]
    public async Task Payment_methods_carry_sandbox_tokens_and_never_a_card_number()
    {
        Assert.Equal("", await Scalar<string>(Db, """
            select coalesce(string_agg(concat_ws(' ', token, brand, gateway), ', '), '') from (
                select token, brand, gateway from payment_methods
                where token !~ '^pm_(ok_[0-9a-z]{24}|bank_[0-9]+_[0-9a-z]{16})(-r[0-9]+)?$'
                   or brand not in ('visa', 'mastercard', 'amex') or gateway <> 'sandbox'
                limit 5) wrong
            """));
        var cardNumberLike = new Regex("[0-9]{13,}");
        foreach (var query in new[]
                 {
                     "select string_agg(t::text, ' ') from payment_methods t",
                     "select string_agg(t::text, ' ') from customers t",
                     // (gateway references hold the idempotency key's hex, which a card number never is)
                     "select string_agg(coalesce(failure_message, ''), ' ') from payment_attempts",
                     "select string_agg(concat_ws(' ', reason, before, after), ' ') from audit_log",
                 })
        {
            Assert.DoesNotMatch(cardNumberLike, await Scalar<string>(Db, query));
        }
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from customers c
            where (select count(*) from payment_methods p where p.customer_id = c.id and p.is_default and p.detached_at is null) <> 1
            """));
        // Cards given on the pay page after a payment-failed email replaced the sign-up card.
        Assert.True(await Scalar<long>(Db, "select count(*) from payment_methods where token like 'pm_ok_%' and is_default") > 0);
    }

    [Fact]
    public async Task Snapshots_runs_policy_and_audit_are_filled_in()
    {
        var options = GeneratedDemoDatabase.Options;
        // MRR is recorded by the engine from the generated history: a snapshot for every month, and today's MRR is both the
        // subscriptions' own (docs/analytics.md) and the sum of every movement since the first.
        // From the first paid month (the first customers' trials end in it) to the last, every month has its snapshots.
        Assert.True(await Scalar<long>(Db, "select count(distinct date_trunc('month', day)) from mrr_snapshots") >= options.MonthsOfHistory - 1);
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from generate_series((select date_trunc('month', min(day)) from mrr_snapshots), date_trunc('month', $1::timestamptz at time zone 'UTC'), interval '1 month') m
            where not exists (select 1 from mrr_snapshots s where date_trunc('month', s.day) = m)
            """, options.Now));
        Assert.Equal(0L, await Scalar<long>(Db, $"""
            with live as (select p.currency, sum({MrrRecorder.SubscriptionMrrAt("now()")}) as mrr from subscriptions s join prices p on p.id = s.price_id group by 1),
                 recorded as (select currency, sum(mrr) as mrr from mrr_snapshots where day = (select max(day) from mrr_snapshots) group by 1),
                 moved as (select currency, sum(amount) as mrr from mrr_movements group by 1)
            select count(*) from live full join recorded using (currency) full join moved using (currency)
            where coalesce(live.mrr, 0) <> coalesce(recorded.mrr, 0) or coalesce(live.mrr, 0) <> coalesce(moved.mrr, 0)
            """));
        Assert.True(await Scalar<long>(Db, "select count(*) from mrr_movements where kind = 'churn_voluntary'") > 0);
        Assert.Equal(await Scalar<long>(Db, "select count(*) from invoices where billing_run_id is not null"),
            await Scalar<long>(Db, "select sum(invoiced_count) from billing_runs"));
        // A run's charged and failed counts are its billing-run attempts that succeeded and the rest, as the engine counts them.
        Assert.Equal(0L, await Scalar<long>(Db, """
            select count(*) from billing_runs r
            where r.charged_count <> (select count(*) from invoices i join payment_attempts a on a.invoice_id = i.id
                                      where i.billing_run_id = r.id and a.trigger = 'billing_run' and a.status = 'succeeded')
               or r.failed_count <> (select count(*) from invoices i join payment_attempts a on a.invoice_id = i.id
                                     where i.billing_run_id = r.id and a.trigger = 'billing_run' and a.status <> 'succeeded')
            """));
        Assert.True(await Scalar<long>(Db, "select sum(failed_count) from billing_runs") > 0);
        Assert.True(await Scalar<long>(Db, "select count(*) from audit_log where actor_role = 'support'") > 0);
        Assert.True(await Scalar<long>(Db, "select count(*) from audit_log where actor = 'api:website'") > 0);

        await using var context = demo.Database.NewContext();
        var policy = await context.DunningPolicies.SingleAsync(Ct);
        Assert.Equal(1, policy.Version);
        Assert.Equal(JsonSerializer.Serialize(DunningPolicySettings.Default.Ladder), JsonSerializer.Serialize(policy.Settings.Ladder));
    }

    [Fact]
    public async Task The_domain_model_reads_the_generated_rows()
    {
        await using var context = demo.Database.NewContext();
        var customers = await context.Customers.Include(c => c.PaymentMethods).OrderBy(c => c.Id).Take(100).ToListAsync(Ct);
        Assert.All(customers, c => Assert.NotNull(c.DefaultPaymentMethod));
        var invoices = await context.Invoices.Include(i => i.Lines).OrderBy(i => i.Number).Take(500).ToListAsync(Ct);
        Assert.All(invoices, i => Assert.Equal(i.Subtotal, i.Lines.Aggregate(BillingConsole.Domain.Common.Money.Zero(i.Currency), (sum, line) => sum + line.Amount)));
        Assert.NotEmpty(await context.Subscriptions.Take(500).ToListAsync(Ct));
        Assert.NotEmpty(await context.PaymentAttempts.Take(500).ToListAsync(Ct));
        Assert.NotEmpty(await context.DunningCases.ToListAsync(Ct));
        Assert.NotEmpty(await context.LedgerEntries.Take(500).ToListAsync(Ct));
        Assert.NotEmpty(await context.BillingRuns.ToListAsync(Ct));
        Assert.NotEmpty(await context.AuditLog.ToListAsync(Ct));
        Assert.NotEmpty(await context.MrrSnapshots.ToListAsync(Ct));
        Assert.Equal(4, await context.Plans.CountAsync(Ct));
    }

    [Fact]
    public async Task It_only_writes_to_an_empty_database_and_leaves_the_schema_as_migrated()
    {
        Assert.False(await DemoDataGenerator.IsDatabaseEmptyAsync(Db, Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => GeneratedDemoDatabase.Generate(demo.Database, GeneratedDemoDatabase.Small));

        await using var empty = await TestDatabases.CreateMigratedAsync("demo");
        Assert.True(await DemoDataGenerator.IsDatabaseEmptyAsync(empty.DataSource, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => GeneratedDemoDatabase.Generate(empty, new DemoDataOptions()));

        // Indexes and foreign keys are lifted during the load; they must all be back, exactly as the migrations made them.
        const string schema = """
            select string_agg(definition, E'\n' order by definition) from (
                select t.relname || ': ' || pg_get_indexdef(i.indexrelid) as definition
                from pg_index i join pg_class t on t.oid = i.indrelid
                where t.relnamespace = 'public'::regnamespace
                union all
                select conrelid::regclass::text || ': ' || conname || ' ' || pg_get_constraintdef(oid)
                from pg_constraint where connamespace = 'public'::regnamespace) d
            """;
        Assert.Equal(await Scalar<string>(empty.DataSource, schema), await Scalar<string>(Db, schema));
        Assert.Equal(0L, await Scalar<long>(Db, "select count(*) from pg_constraint where connamespace = 'public'::regnamespace and not convalidated"));
    }

    private static async Task<T> Scalar<T>(NpgsqlDataSource db, string sql, params object[] parameters)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var parameter in parameters) command.Parameters.AddWithValue(parameter);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task<HashSet<string>> Strings(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var values = new HashSet<string>();
        while (await reader.ReadAsync(Ct)) values.Add(reader.GetString(0));
        return values;
    }
}
