using System.Security.Claims;
using BillingConsole.Actions;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Events;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.TestClocks;
using BillingConsole.ReadModels;
using BillingConsole.Extensions;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BillingConsole.Tests.Actions;

/// <summary>
/// The role matrix, checked without a browser against the console host's own services: every action run as every role
/// (and as a user without one). A role without the action's policy is refused on the server and nothing in the database
/// changes; a role with it gets the action done and the database shows it.
/// </summary>
public sealed class ConsoleActionsTests(ConsoleAppHost host)
{
    private const string Reason = "Role matrix";
    private const string NoRole = "none";

    /// <summary>
    /// The matrix as the README states it: support and admin act on payments, dunning, notes, subscriptions and coupons; only
    /// admins void, write off, change the catalog, the settings, the templates and the integrations, and start billing runs.
    /// </summary>
    private static readonly Dictionary<string, string[]> AllowedRoles = new()
    {
        ["retry_payment"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["void_invoice"] = [ConsoleRoles.Admin],
        ["mark_uncollectible"] = [ConsoleRoles.Admin],
        ["reopen_invoice"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["add_note"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["change_collection_method"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["change_time_zone"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["change_tax_id"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["attach_sandbox_card"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["reset_dunning_case"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["pause_dunning"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["resume_dunning"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["change_plan"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["cancel_subscription"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["pause_subscription"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["resume_subscription"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["refund_payment"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["issue_credit_note"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["start_subscription"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["apply_coupon_to_subscription"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["apply_coupon_to_customer"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["archive_price"] = [ConsoleRoles.Admin],
        ["select_bulk_retry"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["start_bulk_retry"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["start_billing_run"] = [ConsoleRoles.Admin],
        ["create_test_clock"] = [ConsoleRoles.Admin],
        ["add_test_customer"] = [ConsoleRoles.Admin],
        ["advance_test_clock"] = [ConsoleRoles.Admin],
        ["save_billing_settings"] = [ConsoleRoles.Admin],
        ["save_account_codes"] = [ConsoleRoles.Admin],
        ["save_reporting_currency"] = [ConsoleRoles.Admin],
        ["enter_exchange_rate"] = [ConsoleRoles.Admin],
        ["add_tax_rule"] = [ConsoleRoles.Admin],
        ["remove_tax_rule"] = [ConsoleRoles.Admin],
        ["restore_tax_table"] = [ConsoleRoles.Admin],
        ["compare_dunning_policies"] = [ConsoleRoles.Admin],
        ["preview_dunning_policy"] = [ConsoleRoles.Admin],
        ["save_dunning_policy"] = [ConsoleRoles.Admin],
        ["restore_dunning_policy"] = [ConsoleRoles.Admin],
        ["register_event_endpoint"] = [ConsoleRoles.Admin],
        ["preview_template"] = [ConsoleRoles.Admin],
        ["save_template"] = [ConsoleRoles.Admin],
        ["restore_template"] = [ConsoleRoles.Admin],
        ["send_test_email"] = [ConsoleRoles.Admin],
        ["adjust_balance"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
        ["create_one_off_invoice"] = [ConsoleRoles.Support, ConsoleRoles.Admin],
    };

    /// <param name="Writes">
    /// False for a preview or a test email: allowed, it writes nothing and may still fail by a rule (the shared console has no
    /// mail server), but it is never refused.
    /// </param>
    private sealed record ConsoleAction(Func<ConsoleActions, ClaimsPrincipal, FailedInvoice, Task<ActionOutcome>> Run,
        Func<ConsoleActions, FailedInvoice, Task>? Prepare = null, bool Writes = true);

    private static readonly Dictionary<string, ConsoleAction> Actions = new()
    {
        ["retry_payment"] = new(async (a, u, f) => await a.RetryPaymentAsync(u, f.InvoiceId, Reason)),
        ["void_invoice"] = new(async (a, u, f) => await a.VoidInvoiceAsync(u, f.InvoiceId, Reason)),
        ["mark_uncollectible"] = new(async (a, u, f) => await a.MarkUncollectibleAsync(u, f.InvoiceId, Reason)),
        ["add_note"] = new(async (a, u, f) => await a.AddNoteAsync(u, f.CustomerId, "A note from the role matrix")),
        ["change_collection_method"] = new(async (a, u, f) => await a.ChangeCollectionMethodAsync(u, f.CustomerId, CollectionMethods.SendInvoice, 30, Reason)),
        ["change_time_zone"] = new(async (a, u, f) => await a.ChangeTimeZoneAsync(u, f.CustomerId, "Asia/Tokyo", Reason)),
        ["change_tax_id"] = new(async (a, u, f) => await a.ChangeTaxIdAsync(u, f.CustomerId, "DE123456789", Reason)),
        ["attach_sandbox_card"] = new(async (a, u, f) => await a.AttachSandboxCardAsync(u, f.CustomerId, "pm_ok_", Reason)),
        ["reopen_invoice"] = new(async (a, u, f) => await a.ReopenInvoiceAsync(u, f.InvoiceId, Reason),
            async (a, f) => await a.MarkUncollectibleAsync(User(ConsoleRoles.Admin), f.InvoiceId, "setup")),
        // Only a stuck case is reset: here one whose retry started an hour ago in a process that died.
        ["reset_dunning_case"] = new(async (a, u, f) => await a.ResetDunningCaseAsync(u, f.CaseId, Reason),
            async (_, f) =>
            {
                await using var db = TestDatabases.NewContext(TestServers.DefaultConnectionString);
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"update dunning_cases set status = 'retrying', updated_at = now() - interval '1 hour' where id = {f.CaseId}");
            }),
        ["pause_dunning"] = new(async (a, u, f) => await a.PauseDunningAsync(u, f.CustomerId, Reason)),
        ["resume_dunning"] = new(async (a, u, f) => await a.ResumeDunningAsync(u, f.CustomerId, Reason),
            async (a, f) => await a.PauseDunningAsync(User(ConsoleRoles.Admin), f.CustomerId, "setup")),
        ["change_plan"] = new(async (a, u, f) => await a.ChangePlanAsync(u, f.SubscriptionId, new ChangePlan(f.UpgradePriceId, 2, "at_period_end", null), Reason)),
        ["cancel_subscription"] = new(async (a, u, f) => await a.CancelSubscriptionAsync(u, f.SubscriptionId, CancelWhen.Now, Reason)),
        // A past-due subscription cannot be paused: the payment is recovered first.
        ["pause_subscription"] = new(async (a, u, f) => await a.PauseSubscriptionAsync(u, f.SubscriptionId, Reason),
            async (a, f) => await a.RetryPaymentAsync(User(ConsoleRoles.Admin), f.InvoiceId, "setup")),
        ["resume_subscription"] = new(async (a, u, f) => await a.ResumeSubscriptionAsync(u, f.SubscriptionId, Reason),
            async (a, f) =>
            {
                await a.RetryPaymentAsync(User(ConsoleRoles.Admin), f.InvoiceId, "setup");
                await a.PauseSubscriptionAsync(User(ConsoleRoles.Admin), f.SubscriptionId, "setup");
            }),
        ["refund_payment"] = new(async (a, u, f) => await a.RefundPaymentAsync(u, f.InvoiceId, new RefundPayment(5m, "duplicate"), Reason),
            async (a, f) => await a.RetryPaymentAsync(User(ConsoleRoles.Admin), f.InvoiceId, "setup")),
        ["issue_credit_note"] = new(async (a, u, f) => await a.IssueCreditNoteAsync(u, f.InvoiceId,
            new IssueCreditNote([new CreditNoteLineInput("Outage credit", 5m)], "goodwill"), Reason)),
        ["start_subscription"] = new(async (a, u, f) => await a.StartSubscriptionAsync(u, new CreateSubscription(f.CustomerId, f.UpgradePriceId, 1, 0), Reason)),
        ["apply_coupon_to_subscription"] = new(async (a, u, f) => await a.ApplyCouponToSubscriptionAsync(u, f.SubscriptionId, CouponCode(f), Reason),
            CreateCouponAsync),
        ["apply_coupon_to_customer"] = new(async (a, u, f) => await a.ApplyCouponToCustomerAsync(u, f.CustomerId, CouponCode(f), Reason),
            CreateCouponAsync),
        ["archive_price"] = new(async (a, u, f) => await a.ArchivePriceAsync(u, f.UpgradePriceId, Reason)),
        ["select_bulk_retry"] = new(async (a, u, f) => await a.SelectBulkRetryAsync(u, CasesOf(f), default), Writes: false),
        ["start_bulk_retry"] = new(async (a, u, f) => await a.StartBulkRetryAsync(u, CasesOf(f), Reason, default)),
        ["start_billing_run"] = new(async (a, u, _) => await a.StartBillingRunAsync(u, Reason)),
        // Named after the matrix, so that the audit of what is done on the clock carries its name.
        ["create_test_clock"] = new(async (a, u, f) => await a.CreateTestClockAsync(u, MatrixClockName(f), null)),
        ["add_test_customer"] = new(async (a, u, f) => await a.AddTestCustomerAsync(u, await MatrixClockAsync(a, f),
                new AddTestCustomer("Matrix test customer", $"clock-{f.Email}", "USD", f.UpgradePriceId, "pm_ok_")),
            CreateMatrixClockAsync),
        ["advance_test_clock"] = new(async (a, u, f) => await a.AdvanceTestClockAsync(u, await MatrixClockAsync(a, f), new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), Reason),
            CreateMatrixClockAsync),
        ["save_billing_settings"] = new(async (a, u, _) =>
        {
            var settings = SaveBillingSettings.From(await a.ReadAsync<BillingSettingsCommands, BillingSettingsValues>(s => Task.FromResult(s.Current())));
            settings.Reason = Reason;
            return await a.SaveBillingSettingsAsync(u, settings);
        }),
        ["save_account_codes"] = new(async (a, u, _) =>
        {
            var codes = SaveAccountCodes.From(await a.ReadAsync<AccountingSettingsCommands, AccountCodes>(s => s.CurrentAsync(default)));
            codes.Reason = Reason;
            return await a.SaveAccountCodesAsync(u, codes);
        }),
        ["save_reporting_currency"] = new(async (a, u, _) => await a.SaveReportingCurrencyAsync(u,
            new SaveReportingCurrency { Currency = (await a.ReadAsync<ExchangeRateCommands, ExchangeRates>(r => r.CurrentAsync(default))).ReportingCurrency, Reason = Reason })),
        // A pair between two currencies the shared console bills nothing in changes no total the other tests read.
        ["enter_exchange_rate"] = new(async (a, u, _) => await a.EnterExchangeRateAsync(u,
            new EnterExchangeRate { BaseCurrency = "CHF", QuoteCurrency = "JPY", Rate = 170m, EffectiveOn = new DateOnly(2001, 1, 1), Reason = Reason })),
        // Rules for a country the shared console bills nobody in, from days no other test uses.
        ["add_tax_rule"] = new(async (a, u, _) => await a.AddTaxRuleAsync(u, MatrixTaxRule(2001), await SellerCountryAsync(a), Reason)),
        ["remove_tax_rule"] = new(async (a, u, _) => await a.RemoveTaxRuleAsync(u, MatrixTaxRule(2002).ToRule(), Reason),
            async (a, _) => await a.AddTaxRuleAsync(User(ConsoleRoles.Admin), MatrixTaxRule(2002), await SellerCountryAsync(a), "setup")),
        ["restore_tax_table"] = new(async (a, u, _) => await a.RestoreTaxTableAsync(u,
                (await a.ReadAsync<TaxRuleCommands, TaxTableVersionView>(tax => tax.CurrentAsync(default))).Version, Reason),
            async (a, _) => await a.AddTaxRuleAsync(User(ConsoleRoles.Admin), MatrixTaxRule(2003), await SellerCountryAsync(a), "setup")),
        ["compare_dunning_policies"] = new(async (a, u, _) =>
        {
            var current = (await CurrentPolicyAsync(a)).Settings;
            return await a.CompareDunningPoliciesAsync(u, current, current, null);
        }, Writes: false),
        ["preview_dunning_policy"] = new(async (a, u, _) => await a.PreviewDunningPolicyAsync(u, await PolicyFormAsync(a)), Writes: false),
        ["save_dunning_policy"] = new(async (a, u, _) => await a.SaveDunningPolicyAsync(u, await PolicyFormAsync(a))),
        ["restore_dunning_policy"] = new(async (a, u, _) => await a.RestoreDunningPolicyAsync(u, (await CurrentPolicyAsync(a)).Version, Reason)),
        // Disabled at once: nothing listens there, and the shared console should not keep sending to it.
        ["register_event_endpoint"] = new(async (a, u, f) =>
        {
            var registered = await a.RegisterEventEndpointAsync(u,
                new RegisterEventEndpoint($"http://127.0.0.1:9/matrix/{f.CustomerId:N}", [EventTypes.CustomerUpdated], "Role matrix"), Reason);
            if (registered.Value is { } endpoint) await a.DisableEventEndpointAsync(User(ConsoleRoles.Admin), endpoint.Endpoint.Id, "cleanup");
            return registered;
        }),
        ["preview_template"] = new(async (a, u, _) => await a.PreviewTemplateAsync(u, (await InForceTemplateAsync(a)).Template), Writes: false),
        ["save_template"] = new(async (a, u, _) => await a.SaveTemplateAsync(u, TemplateKind, (await InForceTemplateAsync(a)).Template, Reason)),
        ["restore_template"] = new(async (a, u, _) => await a.RestoreTemplateAsync(u, TemplateKind, NotificationTemplateCommands.ShippedVersion, Reason)),
        ["send_test_email"] = new(async (a, u, _) => await a.SendTestEmailAsync(u, (await InForceTemplateAsync(a)).Template, "matrix@example.test"),
            Writes: false),
        ["adjust_balance"] = new(async (a, u, f) => await a.AdjustBalanceAsync(u, f.CustomerId, new AdjustBalance(BalanceDirections.Credit, 5m), Reason)),
        ["create_one_off_invoice"] = new(async (a, u, f) => await a.CreateOneOffInvoiceAsync(u, f.CustomerId,
            new CreateOneOffInvoice([new OneOffLineInput("Setup fee", 1, 30m)], OneOffCollections.SendInvoice, 14), Reason)),
    };

    private const string TemplateKind = NotificationKinds.PaymentFailed;

    private static DunningQueueFilter CasesOf(FailedInvoice failed) => new() { Search = failed.Email };

    private static Task<DunningPolicyVersionView> CurrentPolicyAsync(ConsoleActions actions) =>
        actions.ReadAsync<DunningPolicyCommands, DunningPolicyVersionView>(policies => policies.CurrentAsync(default));

    private static async Task<SaveDunningPolicy> PolicyFormAsync(ConsoleActions actions)
    {
        var form = SaveDunningPolicy.From((await CurrentPolicyAsync(actions)).Settings);
        form.Reason = Reason;
        return form;
    }

    private static Task<NotificationTemplateView> InForceTemplateAsync(ConsoleActions actions) =>
        actions.ReadAsync<NotificationTemplateCommands, NotificationTemplateView>(templates => templates.InForceAsync(TemplateKind, default));

    private static string MatrixClockName(FailedInvoice failed) => $"{Reason} {failed.CustomerId:N}";

    private static async Task CreateMatrixClockAsync(ConsoleActions actions, FailedInvoice failed) =>
        await actions.CreateTestClockAsync(User(ConsoleRoles.Admin), MatrixClockName(failed), new DateTimeOffset(2029, 12, 31, 0, 0, 0, TimeSpan.Zero));

    private static async Task<Guid> MatrixClockAsync(ConsoleActions actions, FailedInvoice failed) =>
        (await actions.ReadAsync<TestClockQueries, IReadOnlyList<TestClockRow>>(clocks => clocks.ListAsync(default))).Single(c => c.Name == MatrixClockName(failed)).Id;

    private static string CouponCode(FailedInvoice failed) => $"MATRIX-{failed.CustomerId:N}";

    private static TaxRuleInput MatrixTaxRule(int year) => new("LU", null, 17m, new DateOnly(year, 1, 1));

    /// <summary>
    /// The seller's country in force, or, while no tax table has been saved (this class run on its own), a seller outside
    /// the EU, as the tax pages test uses, so that the shared console's other tests bill as before.
    /// </summary>
    private static async Task<string> SellerCountryAsync(ConsoleActions actions) =>
        (await actions.ReadAsync<TaxRuleCommands, TaxTableVersionView>(tax => tax.CurrentAsync(default))).Table.SellerCountry is { Length: > 0 } seller
            ? seller : "AQ";

    private static async Task CreateCouponAsync(ConsoleActions actions, FailedInvoice failed) =>
        await actions.CreateCouponAsync(User(ConsoleRoles.Admin), new CreateCoupon(CouponCode(failed), "Matrix", 10m, null, null, "forever", null, null, null),
            "setup");

    public static TheoryData<string> ActionNames => [.. AllowedRoles.Keys];

    [Fact]
    public void Every_action_is_in_the_matrix() => Assert.Equal(AllowedRoles.Keys.Order(), Actions.Keys.Order());

    [Theory]
    [MemberData(nameof(ActionNames))]
    public async Task An_action_is_refused_on_the_server_to_roles_without_its_policy_and_changes_nothing(string action)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        foreach (var role in new[] { NoRole, ConsoleRoles.Finance, ConsoleRoles.Support, ConsoleRoles.Admin })
        {
            var failed = await FailedInvoices.CreateAsync(host.Services);
            if (Actions[action].Prepare is { } prepare) await prepare(consoleActions, failed);
            var before = await SnapshotAsync(failed);

            var outcome = await Actions[action].Run(consoleActions, User(role), failed);

            var after = await SnapshotAsync(failed);
            if (AllowedRoles[action].Contains(role) && !Actions[action].Writes)
            {
                Assert.True(outcome.Status is not ActionStatus.Refused, $"{action} as {role}: {outcome.Message}");
                Assert.Equal(before, after);
            }
            else if (AllowedRoles[action].Contains(role))
            {
                Assert.True(outcome.Status is ActionStatus.Done, $"{action} as {role}: {outcome.Status} {outcome.Message}");
                Assert.NotEqual(before, after);
            }
            else
            {
                Assert.Equal(ActionStatus.Refused, outcome.Status);
                Assert.Equal(ConsoleActions.RefusedMessage, outcome.Message);
                Assert.Equal(before, after);
            }
        }
    }

    [Theory]
    [InlineData(ConsoleRoles.Finance)]
    [InlineData(ConsoleRoles.Support)]
    [InlineData(ConsoleRoles.Admin)]
    public async Task Every_role_previews_plan_changes_and_the_next_invoice_without_writing(string role)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        var failed = await FailedInvoices.CreateAsync(host.Services);
        var before = await SnapshotAsync(failed);

        var change = await consoleActions.PreviewPlanChangeAsync(User(role), failed.SubscriptionId, new ChangePlan(failed.UpgradePriceId, 1, "immediate", null));
        var upcoming = await consoleActions.UpcomingInvoiceAsync(User(role), failed.SubscriptionId);
        var refused = await consoleActions.UpcomingInvoiceAsync(User(NoRole), failed.SubscriptionId);

        Assert.Equal(ActionStatus.Done, change.Status);
        Assert.True(change.Value!.Quote.IsUpgrade);
        Assert.Equal(InvoiceView.PreviewStatus, change.Value.Invoice!.Status);
        Assert.Equal(ActionStatus.Done, upcoming.Status);
        Assert.Equal(20m, upcoming.Value!.Subtotal);
        Assert.Equal(ActionStatus.Refused, refused.Status);
        Assert.Null(refused.Value);
        Assert.Equal(before, await SnapshotAsync(failed));
    }

    [Fact]
    public async Task Support_sets_a_customer_time_zone_with_a_reason_and_an_unknown_zone_is_refused_changing_nothing()
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        var failed = await FailedInvoices.CreateAsync(host.Services);
        var before = await SnapshotAsync(failed);

        var refused = await consoleActions.ChangeTimeZoneAsync(User(ConsoleRoles.Support), failed.CustomerId, "Europe/Atlantis", "Customer moved");

        Assert.Equal(ActionStatus.Failed, refused.Status);
        Assert.Contains("Not a known time zone", refused.Message);
        Assert.Equal(before, await SnapshotAsync(failed));

        var set = await consoleActions.ChangeTimeZoneAsync(User(ConsoleRoles.Support), failed.CustomerId, "Europe/Berlin", "Customer moved to Berlin");

        Assert.Equal((ActionStatus.Done, "Europe/Berlin"), (set.Status, set.Value!.TimeZone));
        var snapshot = await SnapshotAsync(failed);
        Assert.Contains("\"time_zone\":\"Europe/Berlin\"", snapshot);
        Assert.Contains("Customer moved to Berlin", snapshot);
    }

    [Fact]
    public async Task Support_sets_a_customer_tax_number_with_a_reason_and_a_malformed_VAT_number_is_refused_changing_nothing()
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        var failed = await FailedInvoices.CreateAsync(host.Services);
        var before = await SnapshotAsync(failed);

        var refused = await consoleActions.ChangeTaxIdAsync(User(ConsoleRoles.Support), failed.CustomerId, "DE12345", "Customer registered for VAT");

        Assert.Equal((ActionStatus.Failed, "DE12345 is not a VAT number of DE: after DE come 9 digits."), (refused.Status, refused.Message));
        Assert.Equal(before, await SnapshotAsync(failed));

        var set = await consoleActions.ChangeTaxIdAsync(User(ConsoleRoles.Support), failed.CustomerId, "de 123 456 789", "Customer registered for VAT");

        Assert.Equal((ActionStatus.Done, "DE 123 456 789"), (set.Status, set.Value!.TaxId));
        var snapshot = await SnapshotAsync(failed);
        Assert.Contains("\"tax_id\":\"DE 123 456 789\"", snapshot);
        Assert.Contains("Customer registered for VAT", snapshot);
    }

    [Fact]
    public async Task A_rule_broken_by_an_allowed_user_comes_back_as_a_message_and_the_audit_names_the_user()
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        var failed = await FailedInvoices.CreateAsync(host.Services);

        var blank = await consoleActions.VoidInvoiceAsync(User(ConsoleRoles.Admin), failed.InvoiceId, " ");
        var retried = await consoleActions.RetryPaymentAsync(User(ConsoleRoles.Support), failed.InvoiceId, "Customer replaced the card");
        var voidPaid = await consoleActions.VoidInvoiceAsync(User(ConsoleRoles.Admin), failed.InvoiceId, "Too late");

        Assert.Equal((ActionStatus.Failed, "Give a reason: it goes in the audit log."), (blank.Status, blank.Message));
        Assert.Equal(ActionStatus.Done, retried.Status);
        Assert.Equal((ActionStatus.Failed, "A paid invoice cannot be voided."), (voidPaid.Status, voidPaid.Message));
        var snapshot = await SnapshotAsync(failed);
        Assert.Contains("\"actor\":\"Matrix support\"", snapshot);
        Assert.Contains("\"actor_role\":\"support\"", snapshot);
        Assert.Contains("Customer replaced the card (succeeded)", snapshot);
    }

    [Fact]
    public async Task Support_refunds_up_to_the_configured_limit_and_only_an_admin_refunds_more()
    {
        await using var scope = host.Services.CreateAsyncScope();
        var consoleActions = scope.ServiceProvider.GetRequiredService<ConsoleActions>();
        var failed = await FailedInvoices.CreateAsync(host.Services, amount: 300m);
        await consoleActions.RetryPaymentAsync(User(ConsoleRoles.Admin), failed.InvoiceId, "setup");
        var before = await SnapshotAsync(failed);

        var bySupport = await consoleActions.RefundPaymentAsync(User(ConsoleRoles.Support), failed.InvoiceId, new RefundPayment(150m, "order_change"), "Downsized");

        Assert.Equal((ActionStatus.Failed, "Support may refund up to $100.00 at once; a refund of $150.00 needs an admin."), (bySupport.Status, bySupport.Message));
        Assert.Equal(before, await SnapshotAsync(failed));

        var byAdmin = await consoleActions.RefundPaymentAsync(User(ConsoleRoles.Admin), failed.InvoiceId, new RefundPayment(150m, "order_change"), "Downsized");

        Assert.Equal(ActionStatus.Done, byAdmin.Status);
        Assert.StartsWith("Refunded $150.00; credit note CN-", byAdmin.Message);
    }

    private static ClaimsPrincipal User(string role)
    {
        var claims = new List<Claim> { new("name", $"Matrix {role}"), new("sub", $"matrix-{role}") };
        if (role != NoRole) claims.Add(new Claim(ConsoleRoles.ClaimType, role));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "test", "name", ConsoleRoles.ClaimType));
    }

    /// <summary>
    /// Every row the actions could touch for this customer, as JSON, audit entries included, and the count of audit entries
    /// the matrix wrote anywhere (settings, templates and runs belong to no customer).
    /// </summary>
    private async Task<string> SnapshotAsync(FailedInvoice failed)
    {
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = dataSource.CreateCommand("""
            select json_build_object(
              'customers', (select json_agg(t order by t.id) from customers t where t.id = $1),
              'payment_methods', (select json_agg(t order by t.id) from payment_methods t where t.customer_id = $1),
              'subscriptions', (select json_agg(t order by t.id) from subscriptions t where t.customer_id = $1),
              'invoices', (select json_agg(t order by t.id) from invoices t where t.customer_id = $1),
              'payment_attempts', (select json_agg(t order by t.id) from payment_attempts t where t.customer_id = $1),
              'dunning_cases', (select json_agg(t order by t.id) from dunning_cases t where t.customer_id = $1),
              'ledger_entries', (select json_agg(t order by t.id) from ledger_entries t where t.customer_id = $1),
              'customer_notes', (select json_agg(t order by t.id) from customer_notes t where t.customer_id = $1),
              'discounts', (select json_agg(t order by t.id) from discounts t where t.customer_id = $1),
              'upgrade_price', (select json_agg(t) from prices t where t.id = $3),
              'audit_log', (select json_agg(t order by t.id) from audit_log t where t.entity_id = any($2)),
              'matrix_audit', (select count(*) from audit_log t where t.reason like '%' || $4 || '%'))::text
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = failed.CustomerId });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = new[] { failed.CustomerId, failed.SubscriptionId, failed.InvoiceId, failed.CaseId, failed.UpgradePriceId }.Select(id => id.ToString()).ToArray(),
        });
        command.Parameters.Add(new NpgsqlParameter { Value = failed.UpgradePriceId });
        command.Parameters.Add(new NpgsqlParameter { Value = Reason });
        return (string)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
