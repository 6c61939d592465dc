using System.Security.Claims;
using BillingConsole.Components.Pages.Settings;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Tax;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Dunning.Simulation;
using BillingConsole.Engine.Events;
using BillingConsole.Engine.PayPage;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.Payments;
using BillingConsole.Engine.TestClocks;
using BillingConsole.Extensions;
using BillingConsole.ReadModels;
using FluentValidation;
using Microsoft.AspNetCore.Authorization;

namespace BillingConsole.Actions;

/// <summary>How an action ended: done, done with a disappointing answer (a declined card), refused by policy, or failed by a rule.</summary>
public enum ActionStatus { Done, Declined, Refused, Failed }

public record ActionOutcome(ActionStatus Status, string Message)
{
    /// <summary>A failed validation's first message per field ("Ladder", not "Ladder[2]"), for the form to show beside each field.</summary>
    public IReadOnlyDictionary<string, string> FieldErrors { get; init; } = new Dictionary<string, string>();
}

/// <param name="Value">What the engine returned; default unless the action ran.</param>
public sealed record ActionOutcome<T>(ActionStatus Status, string Message, T? Value) : ActionOutcome(Status, Message);

/// <summary>
/// The one way console pages call the engine. Everything a person can do is a method here, behind its policy checked here,
/// on the server, against the signed-in user, whatever the page showed. An allowed action runs its engine command in a
/// scope of its own (a fresh unit of work, not the circuit's) under the user's name and role; rule violations come back as
/// a message (and field errors for a form), not an exception. Pages read through <see cref="ReadAsync{TService, T}"/>, also
/// in a scope of their own.
/// </summary>
public sealed class ConsoleActions(IAuthorizationService authorization, IServiceScopeFactory scopes, ILogger<ConsoleActions> logger)
{
    public const string RefusedMessage = "Your role does not allow this action.";

    public Task<ActionOutcome<ChargeResult>> RetryPaymentAsync(ClaimsPrincipal user, Guid invoiceId, string reason) =>
        RunAsync<DunningCommands, ChargeResult>(user, ConsolePolicies.Support, (commands, actor) => commands.RetryNowAsync(invoiceId, actor, reason, default),
            DescribeCharge);

    public Task<ActionOutcome<InvoiceView>> VoidInvoiceAsync(ClaimsPrincipal user, Guid invoiceId, string reason) =>
        RunAsync<InvoiceCommands, InvoiceView>(user, ConsolePolicies.Admin, (commands, actor) => commands.VoidAsync(invoiceId, actor, reason, default),
            invoice => (ActionStatus.Done, $"Invoice {invoice.Number} is void."));

    public Task<ActionOutcome<InvoiceView>> MarkUncollectibleAsync(ClaimsPrincipal user, Guid invoiceId, string reason) =>
        RunAsync<InvoiceCommands, InvoiceView>(user, ConsolePolicies.Admin, (commands, actor) => commands.MarkUncollectibleAsync(invoiceId, actor, reason, default),
            invoice => (ActionStatus.Done, $"Invoice {invoice.Number} is written off as uncollectible."));

    public Task<ActionOutcome<InvoiceView>> ReopenInvoiceAsync(ClaimsPrincipal user, Guid invoiceId, string reason) =>
        RunAsync<InvoiceCommands, InvoiceView>(user, ConsolePolicies.Support, (commands, actor) => commands.ReopenAsync(invoiceId, actor, reason, default),
            invoice => (ActionStatus.Done, $"Invoice {invoice.Number} is open again and back in dunning."));

    /// <summary>Refunds part or all of a paid invoice's payment; support only up to the Billing settings' limit per refund.</summary>
    public Task<ActionOutcome<RefundView>> RefundPaymentAsync(ClaimsPrincipal user, Guid invoiceId, RefundPayment refund, string reason) =>
        RunAsync<RefundCommands, RefundView>(user, ConsolePolicies.Support, (commands, actor) => commands.RefundAsync(invoiceId, refund, actor, reason, default),
            view => view.Status switch
            {
                "succeeded" => (ActionStatus.Done, $"Refunded {Currencies.Format(new Money(view.Amount, view.Currency))}; credit note {view.CreditNote?.Number} issued."),
                "failed" => (ActionStatus.Declined, $"The gateway refused the refund: {view.FailureMessage}"),
                _ => (ActionStatus.Declined, "The refund is sent; the gateway has not confirmed it yet, and it is checked again until it does."),
            });

    public Task<ActionOutcome<CreditNoteView>> IssueCreditNoteAsync(ClaimsPrincipal user, Guid invoiceId, IssueCreditNote creditNote, string reason) =>
        RunAsync<CreditNoteCommands, CreditNoteView>(user, ConsolePolicies.Support, (commands, actor) => commands.IssueAsync(invoiceId, creditNote, actor, reason, default),
            note => (ActionStatus.Done, $"Credit note {note.Number} issued for {Currencies.Format(new Money(note.Total, note.Currency))}."));

    public Task<ActionOutcome<bool>> AddNoteAsync(ClaimsPrincipal user, Guid customerId, string note) =>
        RunAsync<CustomerCommands, bool>(user, ConsolePolicies.Support, async (commands, actor) =>
        {
            await commands.AddNoteAsync(customerId, actor, note, default);
            return true;
        }, _ => (ActionStatus.Done, "Note added."));

    /// <param name="method">charge_automatically, or send_invoice with <paramref name="daysUntilDue"/>.</param>
    public Task<ActionOutcome<CustomerView>> ChangeCollectionMethodAsync(ClaimsPrincipal user, Guid customerId, string method, int? daysUntilDue,
        string reason) =>
        RunAsync<CustomerCommands, CustomerView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.UpdateAsync(customerId, new UpdateCustomer(null, null, null, null, null, method, daysUntilDue), actor, reason, default),
            view => (ActionStatus.Done, view.DaysUntilDue is { } days
                ? $"Invoices are now sent to the customer, due {days} days after they are issued, and never charged automatically."
                : "Invoices are now charged automatically to the customer's default payment method."));

    /// <summary>Sets the time zone the customer's retries are planned in; blank returns them to the billing time zone.</summary>
    public Task<ActionOutcome<CustomerView>> ChangeTimeZoneAsync(ClaimsPrincipal user, Guid customerId, string? timeZone, string reason) =>
        RunAsync<CustomerCommands, CustomerView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.UpdateAsync(customerId, new UpdateCustomer(null, null, null, null, null, TimeZone: timeZone ?? string.Empty), actor, reason, default),
            customer => (ActionStatus.Done, $"Retries for this customer are planned in {customer.TimeZone ?? "the billing time zone"}."));

    /// <summary>Sets the customer's VAT or tax number (its shape checked for EU countries); blank removes it.</summary>
    public Task<ActionOutcome<CustomerView>> ChangeTaxIdAsync(ClaimsPrincipal user, Guid customerId, string? taxId, string reason) =>
        RunAsync<CustomerCommands, CustomerView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.UpdateAsync(customerId, new UpdateCustomer(null, null, null, null, null, TaxId: taxId ?? string.Empty), actor, reason, default),
            customer => (ActionStatus.Done, customer.TaxId is null ? "The customer has no tax number now." : $"The customer's tax number is {customer.TaxId}."));

    /// <summary>In sandbox mode: a sandbox card becomes the customer's default, and their open dunning invoices are charged to it.</summary>
    public Task<ActionOutcome<CardUpdate>> AttachSandboxCardAsync(ClaimsPrincipal user, Guid customerId, string? token, string reason) =>
        RunAsync<CardUpdates, CardUpdate>(user, ConsolePolicies.Support,
            (cards, actor) => cards.AttachAsync(customerId, cards.SandboxCard(token), actor, reason, default), DescribeCardUpdate);

    public Task<ActionOutcome<EventEndpointView>> DisableEventEndpointAsync(ClaimsPrincipal user, Guid endpointId, string reason) =>
        RunAsync<EventEndpointCommands, EventEndpointView>(user, ConsolePolicies.Admin, (commands, actor) => commands.DisableAsync(endpointId, actor, reason, default),
            endpoint => (ActionStatus.Done, $"{endpoint.Url} gets no events until it is enabled again; its pending deliveries wait."));

    public Task<ActionOutcome<EventEndpointView>> EnableEventEndpointAsync(ClaimsPrincipal user, Guid endpointId, string reason) =>
        RunAsync<EventEndpointCommands, EventEndpointView>(user, ConsolePolicies.Admin, (commands, actor) => commands.EnableAsync(endpointId, actor, reason, default),
            endpoint => (ActionStatus.Done, $"{endpoint.Url} is enabled; its pending deliveries go out with the next pass."));

    /// <summary>Posts an event to its endpoint once more, under the same event id.</summary>
    public Task<ActionOutcome<bool>> SendEventAgainAsync(ClaimsPrincipal user, Guid deliveryId, string reason) =>
        RunAsync<EventEndpointCommands, bool>(user, ConsolePolicies.Admin, async (commands, actor) =>
        {
            await commands.SendAgainAsync(deliveryId, actor, reason, default);
            return true;
        }, _ => (ActionStatus.Done, "The event is queued to be sent again."));

    /// <summary>Sends one of the customer's emails again, as a new notification in the outbox.</summary>
    public Task<ActionOutcome<Guid>> ResendNotificationAsync(ClaimsPrincipal user, Guid notificationId, string reason) =>
        RunAsync<NotificationCommands, Guid>(user, ConsolePolicies.Support, (commands, actor) => commands.ResendAsync(notificationId, actor, reason, default),
            _ => (ActionStatus.Done, "The email is queued to be sent again."));

    /// <summary>Emails the customer a fresh link to their payment page, where they can replace their card.</summary>
    public Task<ActionOutcome<Guid>> SendCardUpdateLinkAsync(ClaimsPrincipal user, Guid customerId, string reason) =>
        RunAsync<NotificationCommands, Guid>(user, ConsolePolicies.Support, (commands, actor) => commands.SendCardUpdateLinkAsync(customerId, actor, reason, default),
            _ => (ActionStatus.Done, "The card-update link is queued to be emailed to the customer."));

    public Task<ActionOutcome<StuckCaseReset>> ResetDunningCaseAsync(ClaimsPrincipal user, Guid caseId, string reason) =>
        RunAsync<DunningCommands, StuckCaseReset>(user, ConsolePolicies.Support, (commands, actor) => commands.ResetStuckCaseAsync(caseId, actor, reason, default),
            reset => (reset.Reset ? ActionStatus.Done : ActionStatus.Declined, reset.Message));

    public Task<ActionOutcome<bool>> PauseDunningAsync(ClaimsPrincipal user, Guid customerId, string reason) =>
        RunAsync<DunningCommands, bool>(user, ConsolePolicies.Support, async (commands, actor) =>
        {
            await commands.PauseDunningAsync(customerId, actor, reason, default);
            return true;
        }, _ => (ActionStatus.Done, "Dunning is paused for this customer."));

    public Task<ActionOutcome<bool>> ResumeDunningAsync(ClaimsPrincipal user, Guid customerId, string reason) =>
        RunAsync<DunningCommands, bool>(user, ConsolePolicies.Support, async (commands, actor) =>
        {
            await commands.ResumeDunningAsync(customerId, actor, reason, default);
            return true;
        }, _ => (ActionStatus.Done, "Dunning is resumed for this customer."));

    public Task<ActionOutcome<bool>> CloseGatewayBreakerAsync(ClaimsPrincipal user, string reason) =>
        RunAsync<GatewayCircuitBreaker, bool>(user, ConsolePolicies.Admin, async (breaker, actor) =>
        {
            await breaker.CloseByHandAsync(actor, reason, default);
            return true;
        }, _ => (ActionStatus.Done, "The circuit breaker is closed: charging resumes now."));

    public Task<ActionOutcome<PlanChangeView>> PreviewPlanChangeAsync(ClaimsPrincipal user, Guid subscriptionId, ChangePlan change) =>
        RunAsync<SubscriptionCommands, PlanChangeView>(user, ConsolePolicies.Read, (commands, _) => commands.PreviewChangeAsync(subscriptionId, change, default),
            _ => (ActionStatus.Done, "Preview ready."));

    public Task<ActionOutcome<PlanChangeView>> ChangePlanAsync(ClaimsPrincipal user, Guid subscriptionId, ChangePlan change, string reason) =>
        RunAsync<SubscriptionCommands, PlanChangeView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.ChangePlanAsync(subscriptionId, change, actor, reason, default),
            view => (ActionStatus.Done, view.Invoice is { } invoice
                ? $"Plan changed; invoice {invoice.Number} issued for {Currencies.Format(new Money(invoice.Total, invoice.Currency))}."
                : $"Plan change scheduled for {view.Quote.EffectiveAt:yyyy-MM-dd}."));

    public Task<ActionOutcome<SubscriptionView>> CancelSubscriptionAsync(ClaimsPrincipal user, Guid subscriptionId, string when, string reason) =>
        RunAsync<SubscriptionCommands, SubscriptionView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.CancelAsync(subscriptionId, new CancelSubscription(when), actor, reason, default),
            view => (ActionStatus.Done, view.CancelAtPeriodEnd
                ? $"The subscription cancels at the period end, {view.CurrentPeriodEnd:yyyy-MM-dd}."
                : "The subscription is canceled."));

    public Task<ActionOutcome<SubscriptionView>> PauseSubscriptionAsync(ClaimsPrincipal user, Guid subscriptionId, string reason) =>
        RunAsync<SubscriptionCommands, SubscriptionView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.PauseAsync(subscriptionId, actor, reason, default),
            _ => (ActionStatus.Done, "The subscription is paused."));

    public Task<ActionOutcome<SubscriptionChangeView>> ResumeSubscriptionAsync(ClaimsPrincipal user, Guid subscriptionId, string reason) =>
        RunAsync<SubscriptionCommands, SubscriptionChangeView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.ResumeAsync(subscriptionId, actor, reason, default),
            view => (ActionStatus.Done, view.Invoice is { } invoice
                ? $"The subscription is active again; invoice {invoice.Number} issued for the new period."
                : "The subscription is active again."));

    public Task<ActionOutcome<InvoiceView?>> UpcomingInvoiceAsync(ClaimsPrincipal user, Guid subscriptionId) =>
        RunAsync<SubscriptionCommands, InvoiceView?>(user, ConsolePolicies.Read, (commands, _) => commands.UpcomingInvoiceAsync(subscriptionId, default),
            invoice => invoice is null ? (ActionStatus.Declined, "Nothing will be invoiced at the period end.") : (ActionStatus.Done, "Preview ready."));

    public Task<ActionOutcome<PlanView>> CreatePlanAsync(ClaimsPrincipal user, CreatePlan plan, string reason) =>
        RunAsync<CatalogCommands, PlanView>(user, ConsolePolicies.Admin, (catalog, actor) => catalog.CreatePlanAsync(plan, actor, reason, default),
            created => (ActionStatus.Done, $"Plan {created.Name} created with {created.Prices.Count} price(s)."));

    public Task<ActionOutcome<PriceView>> AddPriceAsync(ClaimsPrincipal user, Guid planId, AddPrice price, string reason) =>
        RunAsync<CatalogCommands, PriceView>(user, ConsolePolicies.Admin, (catalog, actor) => catalog.AddPriceAsync(planId, price, actor, reason, default),
            added => (ActionStatus.Done, $"Price of {Currencies.Format(new Money(added.Amount, added.Currency))} per {added.Interval} added."));

    public Task<ActionOutcome<PriceView>> ArchivePriceAsync(ClaimsPrincipal user, Guid priceId, string reason) =>
        RunAsync<CatalogCommands, PriceView>(user, ConsolePolicies.Admin, (catalog, actor) => catalog.ArchivePriceAsync(priceId, actor, reason, default),
            _ => (ActionStatus.Done, "The price is archived: its subscribers keep it, new subscriptions cannot take it."));

    public Task<ActionOutcome<CouponView>> CreateCouponAsync(ClaimsPrincipal user, CreateCoupon coupon, string reason) =>
        RunAsync<CouponCommands, CouponView>(user, ConsolePolicies.Admin, (coupons, actor) => coupons.CreateAsync(coupon, actor, reason, default),
            created => (ActionStatus.Done, $"Coupon {created.Code} created."));

    public Task<ActionOutcome<PriceMigrationPreview>> PreviewPriceMigrationAsync(ClaimsPrincipal user, Guid fromPriceId, Guid? toPriceId) =>
        RunAsync<PriceMigrations, PriceMigrationPreview>(user, ConsolePolicies.Admin,
            (migrations, _) => migrations.PreviewAsync(fromPriceId, new MigratePrice(toPriceId), default), _ => (ActionStatus.Done, "Preview ready."));

    /// <param name="when">at_renewal or now (prorated).</param>
    public Task<ActionOutcome<PriceMigrationView>> StartPriceMigrationAsync(ClaimsPrincipal user, Guid fromPriceId, Guid toPriceId, string when,
        string reason) =>
        RunAsync<PriceMigrations, PriceMigrationView>(user, ConsolePolicies.Admin,
            (migrations, actor) => migrations.StartAsync(fromPriceId, new MigratePrice(toPriceId, when), actor, reason, default),
            started => (ActionStatus.Done, $"Migration started: {started.Expected} subscriptions move to the new price "
                + (started.When == MigrateWhen.Now ? "now, prorated." : "at their next renewal.")));

    public Task<ActionOutcome<SubscriptionChangeView>> StartSubscriptionAsync(ClaimsPrincipal user, CreateSubscription subscription, string reason) =>
        RunAsync<SubscriptionCommands, SubscriptionChangeView>(user, ConsolePolicies.Support,
            (commands, actor) => commands.CreateAsync(subscription, actor, reason, default),
            view => (ActionStatus.Done, view.Invoice is { } invoice
                ? $"Subscription started; invoice {invoice.Number} issued for {Currencies.Format(new Money(invoice.Total, invoice.Currency))}."
                : $"Subscription started with a trial until {view.Subscription.TrialEnd:yyyy-MM-dd}."));

    public Task<ActionOutcome<DiscountView>> ApplyCouponToSubscriptionAsync(ClaimsPrincipal user, Guid subscriptionId, string couponCode, string reason) =>
        RunAsync<CouponCommands, DiscountView>(user, ConsolePolicies.Support,
            (coupons, actor) => coupons.ApplyToSubscriptionAsync(subscriptionId, new ApplyCoupon(couponCode), actor, reason, default),
            DescribeDiscount);

    public Task<ActionOutcome<DiscountView>> ApplyCouponToCustomerAsync(ClaimsPrincipal user, Guid customerId, string couponCode, string reason) =>
        RunAsync<CouponCommands, DiscountView>(user, ConsolePolicies.Support,
            (coupons, actor) => coupons.ApplyToCustomerAsync(customerId, new ApplyCoupon(couponCode), actor, reason, default),
            DescribeDiscount);

    /// <summary>A credit or debit on the customer's credit balance; a debit takes at most what the customer holds.</summary>
    public Task<ActionOutcome<BalanceAdjustmentView>> AdjustBalanceAsync(ClaimsPrincipal user, Guid customerId, AdjustBalance adjustment, string reason) =>
        RunAsync<CustomerBalanceCommands, BalanceAdjustmentView>(user, ConsolePolicies.Support,
            (balances, actor) => balances.AdjustAsync(customerId, adjustment, actor, reason, default),
            view => (ActionStatus.Done, $"{(view.Direction == BalanceDirections.Credit ? "Credited" : "Debited")} {Currencies.Format(new Money(view.Amount, view.Currency))}; "
                + $"the credit balance is now {Currencies.Format(new Money(view.CreditBalance, view.Currency))}."));

    /// <summary>Issues a one-off invoice and, unless it is sent with terms, charges it at once.</summary>
    public Task<ActionOutcome<OneOffInvoiceIssued>> CreateOneOffInvoiceAsync(ClaimsPrincipal user, Guid customerId, CreateOneOffInvoice invoice, string reason) =>
        RunAsync<OneOffInvoiceCommands, OneOffInvoiceIssued>(user, ConsolePolicies.Support,
            (invoices, actor) => invoices.IssueAndChargeAsync(customerId, invoice, actor, reason, default), DescribeOneOff);

    /// <summary>What a page shows, read in a scope of its own (the page itself is behind its route's policy).</summary>
    public async Task<T> ReadAsync<TService, T>(Func<TService, Task<T>> query) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public Task<ActionOutcome<BulkRetrySelection>> SelectBulkRetryAsync(ClaimsPrincipal user, DunningQueueFilter filter, CancellationToken ct) =>
        RunAsync<BulkRetryService, BulkRetrySelection>(user, ConsolePolicies.Support, (bulk, _) => bulk.SelectAsync(filter, ct),
            selection => (ActionStatus.Done, $"{selection.Count} case(s) selected."));

    public Task<ActionOutcome<BulkRetryStart>> StartBulkRetryAsync(ClaimsPrincipal user, DunningQueueFilter filter, string reason, CancellationToken ct) =>
        RunAsync<BulkRetryService, BulkRetryStart>(user, ConsolePolicies.Support, (bulk, actor) => bulk.StartAsync(filter, actor, reason, ct),
            start => start.Started
                ? (ActionStatus.Done, "The bulk retry started.")
                : (ActionStatus.Declined, "This selection was already retried today: showing that run instead of charging again."));

    public Task<ActionOutcome<Guid>> StartBillingRunAsync(ClaimsPrincipal user, string reason) =>
        RunAsync<BillingRunService, Guid>(user, ConsolePolicies.Admin, (runs, actor) => runs.StartNowAsync(actor, reason, default),
            _ => (ActionStatus.Done, "The billing run started."));

    public Task<ActionOutcome<Guid>> CreateTestClockAsync(ClaimsPrincipal user, string? name, DateTimeOffset? startTime) =>
        RunAsync<TestClockCommands, Guid>(user, ConsolePolicies.Admin, (clocks, actor) => clocks.CreateAsync(name, startTime, actor, default),
            _ => (ActionStatus.Done, "Test clock created."));

    public Task<ActionOutcome<Guid>> AddTestCustomerAsync(ClaimsPrincipal user, Guid clockId, AddTestCustomer customer) =>
        RunAsync<TestClockCommands, Guid>(user, ConsolePolicies.Admin, (clocks, actor) => clocks.AddCustomerAsync(clockId, customer, actor, default),
            _ => (ActionStatus.Done, "Test customer added and subscribed."));

    public Task<ActionOutcome<Guid>> CopyCustomerToTestClockAsync(ClaimsPrincipal user, Guid clockId, Guid? realCustomerId, string? cardToken) =>
        RunAsync<TestClockCustomerCopy, Guid>(user, ConsolePolicies.Admin, (copies, actor) => copies.CopyAsync(clockId, realCustomerId, cardToken, actor, default),
            _ => (ActionStatus.Done, "Customer copied onto the clock and subscribed."));

    public Task<ActionOutcome<TestClockDeleted>> DeleteTestClockAsync(ClaimsPrincipal user, Guid clockId, string reason) =>
        RunAsync<TestClockDeletion, TestClockDeleted>(user, ConsolePolicies.Admin, (deletion, actor) => deletion.DeleteAsync(clockId, actor, reason, default),
            deleted => (ActionStatus.Done, $"Test clock '{deleted.Name}' deleted with its {deleted.Customers} customers."));

    public Task<ActionOutcome<TestClockAdvance>> AdvanceTestClockAsync(ClaimsPrincipal user, Guid clockId, DateTimeOffset target, string reason) =>
        RunAsync<TestClockCommands, TestClockAdvance>(user, ConsolePolicies.Admin, (clocks, actor) => clocks.AdvanceAsync(clockId, target, actor, reason, default),
            advance => (ActionStatus.Done, $"The clock is at {advance.FrozenTime:yyyy-MM-dd HH:mm} UTC, after {advance.Steps} steps."));

    public Task<ActionOutcome<BillingSettingsValues>> SaveBillingSettingsAsync(ClaimsPrincipal user, SaveBillingSettings settings) =>
        RunAsync<BillingSettingsCommands, BillingSettingsValues>(user, ConsolePolicies.Admin, (commands, actor) => commands.SaveAsync(settings, actor, default),
            _ => (ActionStatus.Done, "Billing settings saved and applied."));

    public Task<ActionOutcome<AccountCodes>> SaveAccountCodesAsync(ClaimsPrincipal user, SaveAccountCodes codes) =>
        RunAsync<AccountingSettingsCommands, AccountCodes>(user, ConsolePolicies.Admin, (commands, actor) => commands.SaveAsync(codes, actor, default),
            _ => (ActionStatus.Done, "Account codes saved: the next journal export uses them."));

    public Task<ActionOutcome<ExchangeRates>> SaveReportingCurrencyAsync(ClaimsPrincipal user, SaveReportingCurrency currency) =>
        RunAsync<ExchangeRateCommands, ExchangeRates>(user, ConsolePolicies.Admin, (rates, actor) => rates.SaveReportingCurrencyAsync(currency, actor, default),
            saved => (ActionStatus.Done, $"Reporting currency saved: totals are now shown in {saved.ReportingCurrency}."));

    public Task<ActionOutcome<ExchangeRates>> EnterExchangeRateAsync(ClaimsPrincipal user, EnterExchangeRate rate) =>
        RunAsync<ExchangeRateCommands, ExchangeRates>(user, ConsolePolicies.Admin, (rates, actor) => rates.EnterRateAsync(rate, actor, default),
            _ => (ActionStatus.Done, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Rate entered: 1 {rate.BaseCurrency} = {rate.Rate} {rate.QuoteCurrency} from {rate.EffectiveOn:yyyy-MM-dd}.")));

    public Task<ActionOutcome<TaxTableVersionView>> AddTaxRuleAsync(ClaimsPrincipal user, TaxRuleInput rule, string? sellerCountry, string? reason) =>
        RunAsync<TaxRuleCommands, TaxTableVersionView>(user, ConsolePolicies.Admin, (tax, actor) => tax.AddRuleAsync(rule, sellerCountry, actor, reason, default),
            saved => (ActionStatus.Done, TaxTableSaved("Rule added", saved)), TaxRuleField);

    public Task<ActionOutcome<TaxTableVersionView>> RemoveTaxRuleAsync(ClaimsPrincipal user, TaxRule rule, string? reason) =>
        RunAsync<TaxRuleCommands, TaxTableVersionView>(user, ConsolePolicies.Admin, (tax, actor) => tax.RemoveRuleAsync(rule, actor, reason, default),
            saved => (ActionStatus.Done, TaxTableSaved($"Rule for {rule.Place} removed", saved)), TaxRuleField);

    public Task<ActionOutcome<TaxTableVersionView>> RestoreTaxTableAsync(ClaimsPrincipal user, int version, string reason) =>
        RunAsync<TaxRuleCommands, TaxTableVersionView>(user, ConsolePolicies.Admin, (tax, actor) => tax.RestoreAsync(version, actor, reason, default),
            saved => (ActionStatus.Done, TaxTableSaved($"Version {version} restored", saved)), TaxRuleField);

    private static string TaxTableSaved(string done, TaxTableVersionView saved) => $"{done}: version {saved.Version} applies to the invoices issued from now on.";

    /// <summary>A rule's errors on the rule form's own fields ("Rules[3].RatePercent" → the rate); two rules on one day on the date.</summary>
    private static string TaxRuleField(FluentValidation.Results.ValidationFailure failure) =>
        failure.PropertyName == nameof(SaveTaxTable.Rules) ? "From" : failure.PropertyName.Split('.')[^1];

    /// <summary>Replays the recorded payment history under both policies; writes nothing.</summary>
    public Task<ActionOutcome<WhatIfReport>> CompareDunningPoliciesAsync(ClaimsPrincipal user, DunningPolicySettings current, DunningPolicySettings proposed,
        IProgress<double>? progress) =>
        RunAsync<DunningWhatIf, WhatIfReport>(user, ConsolePolicies.Admin, (whatIf, _) => whatIf.CompareAsync(current, proposed, progress, default),
            _ => (ActionStatus.Done, "Comparison ready."));

    /// <summary>What saving the policy would do to the open cases; writes nothing.</summary>
    public Task<ActionOutcome<PolicyImpactPreview>> PreviewDunningPolicyAsync(ClaimsPrincipal user, SaveDunningPolicy policy) =>
        RunAsync<DunningPolicyCommands, PolicyImpactPreview>(user, ConsolePolicies.Admin, (policies, _) => policies.PreviewAsync(policy, default),
            _ => (ActionStatus.Done, "Preview ready."));

    public Task<ActionOutcome<DunningPolicySaved>> SaveDunningPolicyAsync(ClaimsPrincipal user, SaveDunningPolicy policy) =>
        RunAsync<DunningPolicyCommands, DunningPolicySaved>(user, ConsolePolicies.Admin, (policies, actor) => policies.SaveAsync(policy, actor, default),
            saved => (ActionStatus.Done, PolicyImpactText.Saved(saved)));

    public Task<ActionOutcome<DunningPolicySaved>> RestoreDunningPolicyAsync(ClaimsPrincipal user, int version, string reason) =>
        RunAsync<DunningPolicyCommands, DunningPolicySaved>(user, ConsolePolicies.Admin,
            (policies, actor) => policies.RestoreAsync(version, true, actor, reason, default),
            restored => (ActionStatus.Done, $"Version {version} restored as version {restored.Saved.Version}. {PolicyImpactText.Saved(restored)}"));

    /// <summary>Registers an endpoint for outgoing events; the value carries its signing secret, shown once.</summary>
    public Task<ActionOutcome<RegisteredEventEndpoint>> RegisterEventEndpointAsync(ClaimsPrincipal user, RegisterEventEndpoint endpoint, string reason) =>
        RunAsync<EventEndpointCommands, RegisteredEventEndpoint>(user, ConsolePolicies.Admin, (commands, actor) => commands.RegisterAsync(endpoint, actor, reason, default),
            registered => (ActionStatus.Done, $"{registered.Endpoint.Url} registered."));

    /// <summary>The edited template rendered for the newest invoice; a part that does not render comes back as a field error.</summary>
    public Task<ActionOutcome<RenderedNotification>> PreviewTemplateAsync(ClaimsPrincipal user, NotificationTemplate template) =>
        RunAsync<NotificationCommands, RenderedNotification>(user, ConsolePolicies.Admin, (notifications, _) => notifications.PreviewAsync(template, null, default),
            _ => (ActionStatus.Done, "Preview ready."));

    public Task<ActionOutcome<NotificationTemplateView>> SaveTemplateAsync(ClaimsPrincipal user, string kind, NotificationTemplate template, string reason) =>
        RunAsync<NotificationTemplateCommands, NotificationTemplateView>(user, ConsolePolicies.Admin,
            (templates, actor) => templates.SaveAsync(kind, template, actor, reason, default),
            saved => (ActionStatus.Done, $"Version {saved.Version} saved and in force for the next emails."));

    public Task<ActionOutcome<NotificationTemplateView>> RestoreTemplateAsync(ClaimsPrincipal user, string kind, int version, string reason) =>
        RunAsync<NotificationTemplateCommands, NotificationTemplateView>(user, ConsolePolicies.Admin,
            (templates, actor) => templates.RestoreAsync(kind, version, actor, reason, default),
            saved => (ActionStatus.Done,
                $"{(version == NotificationTemplateCommands.ShippedVersion ? "The shipped template" : $"Version {version}")} restored as version {saved.Version}."));

    /// <summary>Sends the edited template to <paramref name="to"/>; a mail server that refuses it is reported, not thrown.</summary>
    public Task<ActionOutcome<bool>> SendTestEmailAsync(ClaimsPrincipal user, NotificationTemplate template, string to) =>
        RunAsync<NotificationCommands, bool>(user, ConsolePolicies.Admin, async (notifications, _) =>
        {
            try
            {
                await notifications.SendTestAsync(template, null, to, default);
            }
            catch (Exception e) when (e is MailKit.Net.Smtp.SmtpCommandException or MailKit.Net.Smtp.SmtpProtocolException or IOException
                                          or System.Net.Sockets.SocketException or MailKit.Security.AuthenticationException)
            {
                throw new DomainRuleException($"The test could not be sent: {e.Message}");
            }
            return true;
        }, _ => (ActionStatus.Done, $"A test was sent to {to}."));

    private static (ActionStatus, string) DescribeDiscount(DiscountView discount) => (ActionStatus.Done, discount.EndsAt is { } end
        ? $"Coupon {discount.CouponCode} applied to the periods starting from {discount.StartsAt:yyyy-MM-dd} until {end:yyyy-MM-dd}."
        : $"Coupon {discount.CouponCode} applied to every period starting from {discount.StartsAt:yyyy-MM-dd}.");

    /// <summary>The audit log's actor: the signed-in user's display name and highest console role.</summary>
    public static Actor ActorOf(ClaimsPrincipal user) =>
        new(user.Identity?.Name ?? user.FindFirst("sub")?.Value ?? "unknown", user.HighestRole());

    /// <summary>A validator's failures by field ("Ladder", not "Ladder[2]"), the first message of each.</summary>
    public static Dictionary<string, string> FieldErrors(IEnumerable<FluentValidation.Results.ValidationFailure> failures) =>
        failures.GroupBy(f => f.PropertyName.Split('[')[0]).ToDictionary(g => g.Key, g => g.First().ErrorMessage);

    /// <param name="fieldOf">The form field a validation failure belongs to, when a page's fields are not the command's top-level properties.</param>
    private async Task<ActionOutcome<T>> RunAsync<TService, T>(ClaimsPrincipal user, string policy, Func<TService, Actor, Task<T>> work,
        Func<T, (ActionStatus Status, string Message)> describe, Func<FluentValidation.Results.ValidationFailure, string>? fieldOf = null) where TService : notnull
    {
        if (!(await authorization.AuthorizeAsync(user, policy)).Succeeded)
        {
            logger.LogWarning("{User} was refused an action that needs {Policy}.", user.Identity?.Name ?? "an anonymous user", policy);
            return new(ActionStatus.Refused, RefusedMessage, default);
        }
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            var value = await work(scope.ServiceProvider.GetRequiredService<TService>(), ActorOf(user));
            var (status, message) = describe(value);
            return new(status, message, value);
        }
        catch (ValidationException e)
        {
            return new(ActionStatus.Failed, string.Join(" ", e.Errors.Select(error => error.ErrorMessage)), default)
            {
                FieldErrors = fieldOf is null ? FieldErrors(e.Errors) : e.Errors.GroupBy(fieldOf).ToDictionary(g => g.Key, g => g.First().ErrorMessage),
            };
        }
        catch (TemplateRenderException e)
        {
            return new(ActionStatus.Failed, $"Not saved: {e.Message}", default)
            {
                FieldErrors = e.Problems.GroupBy(p => p.Part).ToDictionary(g => g.Key, g => g.First().Message),
            };
        }
        catch (Exception e) when (e is DomainRuleException or ResourceNotFoundException or IllegalTransitionException)
        {
            return new(ActionStatus.Failed, e.Message, default);
        }
    }

    private static (ActionStatus, string) DescribeOneOff(OneOffInvoiceIssued issued)
    {
        var invoice = issued.Invoice;
        var created = $"Invoice {invoice.Number} issued for {Currencies.Format(new Money(invoice.Total, invoice.Currency))}.";
        if (issued.Charge is { } charge)
        {
            var (status, message) = DescribeCharge(charge);
            return (status, $"{created} {message}");
        }
        return (ActionStatus.Done, invoice.AmountDue > 0
            ? $"{created} Sent to the customer, due {invoice.DueAt:yyyy-MM-dd}."
            : $"{created} The customer's credit covers it: nothing is due.");
    }

    private static (ActionStatus, string) DescribeCardUpdate(CardUpdate update)
    {
        var attached = $"{update.Method.Brand} •••• {update.Method.Last4} is the default payment method.";
        if (update.Charges.Count == 0) return (ActionStatus.Done, attached + " No dunning invoice was waiting to be charged.");
        var charges = update.Charges.Select(DescribeCharge).ToList();
        var worst = charges.Max(c => c.Item1);
        return (worst, attached + " " + string.Join(" ", charges.Select(c => c.Item2)));
    }

    private static (ActionStatus, string) DescribeCharge(ChargeResult result) => result.Status switch
    {
        ChargeStatus.Succeeded => (ActionStatus.Done, "The payment succeeded: the invoice is paid."),
        ChargeStatus.Failed => (ActionStatus.Declined, $"The payment was declined ({result.DeclineCode})."),
        ChargeStatus.Unknown => (ActionStatus.Declined, "The gateway did not answer in time; the attempt is checked with the gateway before any new charge."),
        ChargeStatus.Deferred => (ActionStatus.Failed, result.Message ?? ChargeResult.PausedSentence(result.RetryAt)),
        _ => (ActionStatus.Failed, result.Message ?? "Nothing was charged."),
    };
}
