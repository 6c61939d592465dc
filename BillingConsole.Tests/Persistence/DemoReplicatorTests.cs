using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Persistence;
using BillingConsole.Persistence.DemoData;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Microsoft.EntityFrameworkCore;
using BillingConsole.Domain.Invoicing;
using DunningBuild = BillingConsole.Tests.Engine.Dunning.Dunning;

namespace BillingConsole.Tests.Persistence;

/// <summary>
/// A base population made by the engine (billing runs with the sandbox gateway, declines, retries and ladder steps, a hard
/// decline, credit, a refund with its credit note, a cancellation, a second renewal), copied into three databases and
/// replicated there: to three times the base (twice, with one seed) and to a count that is not a multiple of it.
/// </summary>
public sealed class EngineMadeReplicas : IAsyncLifetime
{
    public const int Seed = 42;
    private static readonly Actor Agent = new("agent@example.test", "support");

    private readonly List<MigratedDatabase> _databases = [];

    public MigratedDatabase Base { get; private set; } = null!;
    public MigratedDatabase Tripled { get; private set; } = null!;
    public MigratedDatabase TripledAgain { get; private set; } = null!;
    public MigratedDatabase Uneven { get; private set; } = null!;
    /// <summary>A copy of the base with a table the replicator has never heard of, doubled.</summary>
    public MigratedDatabase Extended { get; private set; } = null!;
    public DemoReplicaSummary TripledSummary { get; private set; } = null!;
    public DemoReplicaSummary TripledAgainSummary { get; private set; } = null!;
    public int BaseCustomers { get; private set; }

    /// <summary>Copies beyond the second full round in <see cref="Uneven"/>: the first base customers get a third copy.</summary>
    public const int UnevenExtra = 3;

    public async ValueTask InitializeAsync()
    {
        Base = Track(await TestDatabases.CreateMigratedAsync("replica_base"));
        await MakeBaseThroughTheEngineAsync(Base);
        BaseCustomers = await Scalar<int>(Base.DataSource, "select count(*)::int from customers");

        // PostgreSQL copies a database only while nobody is connected to it.
        await using (var admin = NpgsqlDataSource.Create(TestServers.PostgresAdminConnectionString))
        await using (var terminate = admin.CreateCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()"))
        {
            terminate.Parameters.AddWithValue(Base.Name);
            await terminate.ExecuteScalarAsync();
        }
        Tripled = Track(await CloneAsync(Base, "replica_a"));
        TripledAgain = Track(await CloneAsync(Base, "replica_b"));
        Uneven = Track(await CloneAsync(Base, "replica_c"));
        Extended = Track(await CloneAsync(Base, "replica_d"));
        Base = Track(new MigratedDatabase(Base.Name, Base.ConnectionString));

        TripledSummary = await ReplicateAsync(Tripled, 3 * BaseCustomers, Seed);
        TripledAgainSummary = await ReplicateAsync(TripledAgain, 3 * BaseCustomers, Seed);
        await ReplicateAsync(Uneven, 2 * BaseCustomers + UnevenExtra, 7);
        await using (var command = Extended.DataSource.CreateCommand("""
            create table invoice_remarks (id uuid primary key, invoice_id uuid not null references invoices (id), remark_key text not null unique, remark text);
            insert into invoice_remarks select gen_random_uuid(), id, 'remark-' || number, 'Sent by post' from invoices;
            """))
        {
            await command.ExecuteNonQueryAsync();
        }
        await ReplicateAsync(Extended, 2 * BaseCustomers, Seed);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases) await database.DisposeAsync();
    }

    private MigratedDatabase Track(MigratedDatabase database)
    {
        _databases.Add(database);
        return database;
    }

    public static Task<DemoReplicaSummary> ReplicateAsync(MigratedDatabase database, int customers, int seed) =>
        new DemoReplicator(database.DataSource, NullLogger<DemoReplicator>.Instance)
            // Small batches, so that several batches and both writers take part.
            .ReplicateAsync(new DemoReplicaOptions { Customers = customers, Seed = seed, BatchCustomers = 5 }, CancellationToken.None);

    private static async Task<MigratedDatabase> CloneAsync(MigratedDatabase source, string purpose)
    {
        var name = $"t_{purpose}_{Guid.NewGuid():N}";
        await using (var admin = NpgsqlDataSource.Create(TestServers.PostgresAdminConnectionString))
        await using (var create = admin.CreateCommand($"create database \"{name}\" template \"{source.Name}\""))
        {
            await create.ExecuteNonQueryAsync();
        }
        return new MigratedDatabase(name, TestServers.ConnectionStringFor(name));
    }

    private static async Task MakeBaseThroughTheEngineAsync(MigratedDatabase database)
    {
        await using var engine = EngineServices.Create(database);
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        await using (var db = database.NewContext())
        {
            db.DunningPolicies.Add(new DunningPolicyVersion(1, DunningBuild.Fixed(2, 9, 21) with { FinalAction = FinalAction.MarkUncollectible },
                "test", "Retries on days 2, 9 and 21", engine.Clock.GetUtcNow()));
            await db.SaveChangesAsync();
        }
        var (_, dollars) = await data.PlanAsync(20m);
        var (_, euros) = await data.PlanAsync(30m, "EUR");
        foreach (var card in new[] { "pm_ok_", "pm_ok_", "pm_insufficient_funds_", "pm_insufficient_funds_then_ok_", "pm_stolen_card_" })
            await data.SubscriptionAsync(await data.CustomerAsync(card), dollars);
        await data.SubscriptionAsync(await data.CustomerAsync("pm_ok_", credit: 5m), dollars);
        await data.SubscriptionAsync(await data.CustomerAsync("pm_ok_", currency: "EUR"), euros);
        var leaving = await data.SubscriptionAsync(await data.CustomerAsync("pm_ok_"), dollars, quantity: 2);

        await engine.RunBillingAsync();
        Guid refunded;
        await using (var db = database.NewContext())
            refunded = await db.Invoices.Where(i => i.SubscriptionId != leaving.Id && i.Status == InvoiceStatus.Paid && i.Currency == "USD")
                .OrderBy(i => i.Number).Select(i => i.Id).FirstAsync();
        await engine.InScopeAsync<RefundCommands>(refunds => refunds.RefundAsync(refunded, new RefundPayment(5m, CreditReasons.All[0]),
            Agent, "Customer asked for part of the month back", CancellationToken.None));
        await engine.InScopeAsync<SubscriptionCommands>(subscriptions => subscriptions.CancelAsync(leaving.Id,
            new CancelSubscription(CancelWhen.Now), Agent, "Customer closed the business", CancellationToken.None));
        await engine.InScopeAsync<CustomerCommands>(customers => customers.AddNoteAsync(leaving.CustomerId, Agent,
            "Closing the business at the end of the month", CancellationToken.None));
        Guid issuedEmail;
        await using (var db = database.NewContext())
            issuedEmail = await db.Notifications.Where(n => n.InvoiceId == refunded && n.Kind == NotificationKinds.InvoiceIssued).Select(n => n.Id).SingleAsync();
        await engine.InScopeAsync<NotificationCommands>(notifications => notifications.ResendAsync(issuedEmail, Agent,
            "Customer did not get the invoice", CancellationToken.None));

        // A month of days, each with the ladder pass and the retry runner, then the next renewals.
        for (var day = 0; day < 31; day++)
        {
            engine.Clock.Advance(TimeSpan.FromDays(1));
            await engine.InScopeAsync<DunningLadder, int>(ladder => ladder.RunDueAsync(CancellationToken.None));
            await engine.Get<DunningRetryRunner>().RunDueAsync(CancellationToken.None);
        }
        await engine.RunBillingAsync();
    }

    public static async Task<T> Scalar<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class DemoReplicatorTests(EngineMadeReplicas replicas) : IClassFixture<EngineMadeReplicas>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<IReadOnlyList<DemoReplicaTable>> CopiedTablesAsync() => DemoReplicaSchema.DescribeAsync(replicas.Base.DataSource, Ct);

    [Fact]
    public async Task The_base_is_engine_made_with_every_kind_of_row()
    {
        foreach (var table in new[] { "invoices", "payment_attempts", "dunning_cases", "dunning_case_steps", "refunds", "credit_notes", "ledger_entries",
                     "customer_notes", "notifications where event_key like '%:resend:%'" })
            Assert.True(await Count(replicas.Base, table) > 0, $"The base has no {table}.");
        Assert.True(await Count(replicas.Base, "payment_attempts where status = 'failed'") > 0);
        Assert.True(await Count(replicas.Base, "subscriptions where status = 'canceled'") > 0);
        Assert.True(await Count(replicas.Base, "customers where credit_balance > 0") + await Count(replicas.Base, "invoices where credit_applied > 0") > 0);
    }

    [Fact]
    public async Task Every_customer_table_holds_three_times_the_base()
    {
        var tables = await CopiedTablesAsync();
        Assert.Contains(tables, t => t.Name == "customer_notes");
        Assert.Equal(3 * replicas.BaseCustomers, await Count(replicas.Tripled, "customers"));
        foreach (var table in tables)
            Assert.True(3 * await Count(replicas.Base, table.Name) == await Count(replicas.Tripled, table.Name), $"{table.Name} is not three times the base.");
        Assert.Equal(replicas.TripledSummary.Rows, (await Task.WhenAll(tables.Select(async t =>
            await Count(replicas.Tripled, t.Name) - await Count(replicas.Base, t.Name)))).Sum());
    }

    [Fact]
    public async Task A_table_added_later_is_copied_through_its_foreign_key()
    {
        Assert.Equal(2 * await Count(replicas.Base, "invoices"), await Count(replicas.Extended, "invoice_remarks"));
        Assert.Equal(await Count(replicas.Extended, "invoice_remarks"), await Count(replicas.Extended, "(select distinct invoice_id from invoice_remarks) i"));
        Assert.Equal(await Count(replicas.Extended, "invoice_remarks"),
            await Count(replicas.Extended, "invoice_remarks r join invoices i on i.id = r.invoice_id where r.remark = 'Sent by post'"));
    }

    [Fact]
    public async Task A_count_that_is_not_a_multiple_copies_the_earliest_customers_once_more()
    {
        Assert.Equal(2 * replicas.BaseCustomers + EngineMadeReplicas.UnevenExtra, await Count(replicas.Uneven, "customers"));
        foreach (var table in new[] { "invoices", "payment_attempts", "ledger_entries", "notifications", "subscriptions", "payment_methods" })
        {
            var earliest = await EngineMadeReplicas.Scalar<long>(replicas.Base.DataSource, $"""
                select count(*) from {table} where customer_id in (select id from customers order by created_at, id limit {EngineMadeReplicas.UnevenExtra})
                """);
            Assert.Equal(2 * await Count(replicas.Base, table) + earliest, await Count(replicas.Uneven, table));
        }
    }

    [Fact]
    public async Task Every_ledger_transaction_balances()
    {
        foreach (var database in new[] { replicas.Tripled, replicas.Uneven })
        {
            Assert.Equal(0L, await Count(database, """
                (select transaction_id from ledger_entries group by transaction_id, currency having sum(debit) <> sum(credit)) unbalanced
                """));
        }
        Assert.Equal(3 * await Count(replicas.Base, "(select distinct transaction_id from ledger_entries) t"),
            await Count(replicas.Tripled, "(select distinct transaction_id from ledger_entries) t"));
    }

    [Fact]
    public async Task Each_copy_has_its_originals_money()
    {
        // A customer's money: its invoices, payments, refunds, credit notes, ledger accounts and credit balance.
        const string money = """
            (select c.id, concat_ws('|', c.currency, c.credit_balance,
                (select string_agg(concat_ws('/', i.status, i.total, i.amount_paid, i.amount_written_off, i.credit_applied, i.amount_credited, i.amount_due), ';' order by i.issued_at, i.total, i.status) from invoices i where i.customer_id = c.id),
                (select string_agg(concat_ws('/', a.status, a.amount, a.decline_code), ';' order by a.started_at, a.attempt_number) from payment_attempts a where a.customer_id = c.id),
                (select string_agg(concat_ws('/', r.status, r.amount), ';' order by r.created_at) from refunds r where r.customer_id = c.id),
                (select string_agg(concat_ws('/', n.total, n.tax), ';' order by n.issued_at) from credit_notes n where n.customer_id = c.id),
                (select string_agg(concat_ws('/', e.account, e.debit, e.credit), ';' order by e.account, e.debit, e.credit) from ledger_entries e where e.customer_id = c.id)) as figures
             from customers c)
            """;
        var pairs = await Count(replicas.Tripled, $"""
            {money} copy join {money} original on copy.id = md5(original.id::text || ':' || 1)::uuid or copy.id = md5(original.id::text || ':' || 2)::uuid
            """);
        var equal = await Count(replicas.Tripled, $"""
            {money} copy join {money} original on (copy.id = md5(original.id::text || ':' || 1)::uuid or copy.id = md5(original.id::text || ':' || 2)::uuid)
                and copy.figures = original.figures
            """);
        Assert.Equal(2 * replicas.BaseCustomers, pairs);
        Assert.Equal(pairs, equal);
        Assert.Equal(3 * await Total(replicas.Base, "select sum(total) from invoices"), await Total(replicas.Tripled, "select sum(total) from invoices"));
        Assert.Equal(3 * await Total(replicas.Base, "select sum(debit) from ledger_entries"), await Total(replicas.Tripled, "select sum(debit) from ledger_entries"));
    }

    [Fact]
    public async Task Invoice_numbers_are_unique_and_follow_issue_time_and_the_sequence_goes_on_after_them()
    {
        foreach (var database in new[] { replicas.Tripled, replicas.Uneven })
        {
            var numbers = new List<(string Number, DateTimeOffset IssuedAt)>();
            await using (var command = database.DataSource.CreateCommand("select number, issued_at from invoices where number is not null order by issued_at, id"))
            await using (var reader = await command.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct)) numbers.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
            var start = await EngineMadeReplicas.Scalar<long>(database.DataSource,
                $"select start_value from pg_sequences where sequencename = '{InvoiceNumbers.Sequence}'");
            Assert.Equal(numbers.Select((_, i) => InvoiceNumbers.Format("INV-", start + i)), numbers.Select(n => n.Number));
            var next = await EngineMadeReplicas.Scalar<long>(database.DataSource, $"select nextval('{InvoiceNumbers.Sequence}')");
            Assert.Equal(start + numbers.Count, next);

            Assert.Equal(await Count(database, "credit_notes"), await Count(database, "(select distinct number from credit_notes) n"));
            Assert.Equal(0L, await Count(database, "credit_notes where number like '%-r%'"));
        }
    }

    [Fact]
    public async Task Foreign_keys_and_indexes_are_back_and_valid_and_every_id_is_new()
    {
        const string constraints = "select count(*) from pg_constraint where connamespace = 'public'::regnamespace";
        const string indexes = "select count(*) from pg_index i join pg_class t on t.oid = i.indrelid where t.relnamespace = 'public'::regnamespace";
        foreach (var database in new[] { replicas.Tripled, replicas.Uneven })
        {
            Assert.Equal(await EngineMadeReplicas.Scalar<long>(replicas.Base.DataSource, constraints), await EngineMadeReplicas.Scalar<long>(database.DataSource, constraints));
            Assert.Equal(await EngineMadeReplicas.Scalar<long>(replicas.Base.DataSource, indexes), await EngineMadeReplicas.Scalar<long>(database.DataSource, indexes));
            Assert.Equal(0L, await EngineMadeReplicas.Scalar<long>(database.DataSource, constraints + " and not convalidated"));
            Assert.Equal(0L, await EngineMadeReplicas.Scalar<long>(database.DataSource, indexes + " and not (i.indisvalid and i.indisready)"));
            Assert.Equal(0L, await Count(database, "pg_namespace where nspname = 'demo_replica'"));
            foreach (var table in (await CopiedTablesAsync()).Where(t => t.Columns.Any(c => c.Name == "id" && c.CopyExpression is not null)))
                Assert.Equal(await Count(database, table.Name), await Count(database, $"(select distinct id from {table.Name}) ids"));
        }
        // Texts that identify a payment or a card are the copy's own: no two rows share one.
        Assert.Equal(await Count(replicas.Tripled, "payment_attempts where gateway_reference is not null"),
            await Count(replicas.Tripled, "(select distinct gateway_reference from payment_attempts where gateway_reference is not null) r"));
        Assert.Equal(0L, await Count(replicas.Tripled, """
            refunds r join payment_attempts a on a.id = r.payment_attempt_id where r.charge_reference is distinct from a.gateway_reference
            """));
        Assert.Equal(0L, await Count(replicas.Tripled, "payment_attempts a where a.idempotency_key not like '%' || replace(a.invoice_id::text, '-', '') || '%'"));
        // A resent email's key holds two ids (the event's, and the resend's without dashes): both are the copy's own.
        Assert.Equal(3 * await Count(replicas.Base, "notifications where event_key like '%:resend:%'"),
            await Count(replicas.Tripled, "(select distinct event_key from notifications where event_key like '%:resend:%') k"));
        Assert.Equal(0L, await Count(replicas.Tripled, "notifications where event_key like '%:resend:%' and split_part(event_key, ':', 1) <> invoice_id::text"));
    }

    [Fact]
    public async Task Billing_run_counts_equal_their_invoices_and_attempts()
    {
        foreach (var database in new[] { replicas.Tripled, replicas.Uneven })
        {
            Assert.Equal(0L, await Count(database, """
                billing_runs r where r.invoiced_count <> (select count(*) from invoices i where i.billing_run_id = r.id)
                   or r.charged_count <> (select count(*) from invoices i join payment_attempts a on a.invoice_id = i.id
                                          where i.billing_run_id = r.id and a.trigger = 'billing_run' and a.status = 'succeeded')
                   or r.failed_count <> (select count(*) from invoices i join payment_attempts a on a.invoice_id = i.id
                                         where i.billing_run_id = r.id and a.trigger = 'billing_run' and a.status in ('failed', 'unknown'))
                   or r.due_count <> (select sum(cardinality(c.subscription_ids)) from billing_run_chunks c where c.run_id = r.id)
                """));
            Assert.Equal(0L, await Count(database, "billing_run_chunks c cross join unnest(c.subscription_ids) s(id) where not exists (select 1 from subscriptions x where x.id = s.id)"));
        }
        Assert.Equal(3 * await Total(replicas.Base, "select sum(invoiced_count) from billing_runs"),
            await Total(replicas.Tripled, "select sum(invoiced_count) from billing_runs"));
    }

    [Fact]
    public async Task Copies_have_names_and_emails_of_their_own()
    {
        Assert.Equal(await Count(replicas.Tripled, "customers"), await Count(replicas.Tripled, "(select distinct email from customers) e"));
        Assert.Equal(0L, await Count(replicas.Tripled, """
            customers original join customers copy
              on copy.id in (md5(original.id::text || ':' || 1)::uuid, md5(original.id::text || ':' || 2)::uuid)
            where copy.name = original.name or copy.email = original.email
            """));
        Assert.Equal(0L, await Count(replicas.Tripled, """
            customers a join customers b on a.id = md5(b.id::text || ':' || 2)::uuid
            join customers base on a.id = md5(base.id::text || ':' || 2)::uuid and b.id = md5(base.id::text || ':' || 1)::uuid
            where a.name = b.name
            """));
        Assert.Equal(0L, await Count(replicas.Tripled, "notifications n join customers c on c.id = n.customer_id where n.recipient is not null and n.recipient <> c.email"));
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_rows()
    {
        Assert.Equal(replicas.TripledSummary.RowsCopied, replicas.TripledAgainSummary.RowsCopied);
        foreach (var table in await CopiedTablesAsync())
        {
            // Identity columns take the order in which concurrent batches committed; every other value is the seed's.
            var generated = string.Join(", ", table.Columns.Where(c => c.CopyExpression is null).Select(c => $"'{c.Name}'"));
            var row = generated.Length == 0 ? "to_jsonb(t)" : $"(to_jsonb(t) - array[{generated}])";
            var digest = $"select coalesce(md5(string_agg({row}::text, ',' order by {row}::text)), '') from {table.Name} t";
            Assert.Equal(await EngineMadeReplicas.Scalar<string>(replicas.Tripled.DataSource, digest),
                await EngineMadeReplicas.Scalar<string>(replicas.TripledAgain.DataSource, digest));
        }
    }

    [Fact]
    public async Task The_analytics_queues_hold_every_copied_invoice_line_and_case()
    {
        Assert.Equal(0L, await Count(replicas.Tripled,
            """
            invoice_lines l join invoices i on i.id = l.invoice_id
            where i.issued_at is not null and not exists (select 1 from revenue_recognition_pending_lines p where p.line_id = l.id and p.kind = 'issued')
            """));
        Assert.Equal(0L, await Count(replicas.Tripled,
            "dunning_cases c where not exists (select 1 from dunning_case_facts_pending p where p.case_id = c.id)"));
    }

    private static Task<long> Count(MigratedDatabase database, string from) =>
        EngineMadeReplicas.Scalar<long>(database.DataSource, $"select count(*) from {from}");

    /// <summary>A sum, as numeric whatever it adds up.</summary>
    private static Task<decimal> Total(MigratedDatabase database, string sql) =>
        EngineMadeReplicas.Scalar<decimal>(database.DataSource, $"select coalesce(({sql})::numeric, 0)");
}
