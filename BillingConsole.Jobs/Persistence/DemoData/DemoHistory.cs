using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Configuration;
using BillingConsole.Engine;
using BillingConsole.Engine.Accounting;
using BillingConsole.Engine.Billing;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Dunning;
using BillingConsole.Engine.Notifications;
using BillingConsole.Engine.PayPage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static BillingConsole.Persistence.DemoData.DemoStaff;

namespace BillingConsole.Persistence.DemoData;

/// <summary>What playing the history took.</summary>
internal sealed record DemoPlay(int Steps, int Moves, int MovesRefused);

/// <summary>
/// Plays a <see cref="DemoScript"/> through the engine itself, in simulated time (<see cref="EngineClock.Enter"/>): every
/// customer move is a command (sign-up through the API, plan changes and credits by support, a new card on the pay page), and
/// between moves time advances hour by hour through whatever is due, where the engine's own passes run as its jobs would
/// have: billing runs, first charges, the escalation ladder, dunning retries at the times the scheduler chose, emails. So every
/// invoice, charge, case, email, ledger and audit row of the demo is one the product wrote.
/// </summary>
/// <remarks>
/// Customers answer the payment-failed emails the engine sends: each has a chance of opening the email's pay link and giving
/// a new card some hours later, or of calling support, who retries at once; the others are left to the retries and the ladder.
/// </remarks>
internal sealed class DemoHistory(IServiceScopeFactory scopes, BillingOptions billing, EmailOptions emails, int seed, ILogger logger)
{
    /// <summary>The jobs run every minute; the history looks at the engine once an hour at most, where something is due.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromHours(1);

    private static readonly Actor Website = Actor.ApiKey("website");

    private readonly Dictionary<(int Tier, string Currency, BillingInterval Interval), Guid> _prices = [];
    private readonly Dictionary<int, Guid> _customerIds = [];
    private readonly Dictionary<Guid, int> _indexOf = [];
    private readonly Dictionary<int, Guid> _subscriptionIds = [];
    private readonly Dictionary<int, int> _tiers = [];
    private readonly HashSet<Guid> _answeredInvoices = [];
    private readonly PriorityQueue<DemoEvent, (DateTime, int, DemoMove)> _queue = new();
    private DemoScript _script = null!;
    private int _moves;
    private int _refused;

    public async Task<DemoPlay> PlayAsync(DemoScript script, CancellationToken ct)
    {
        _script = script;
        foreach (var scripted in script.Events) Enqueue(scripted);
        var start = new DateTimeOffset(script.Start, TimeSpan.Zero);
        var end = new DateTimeOffset(script.End, TimeSpan.Zero);
        using (EngineClock.Enter(null, start))
        {
            await CreateCatalogAsync(ct);
            await CreateTaxTableAsync(script.Start, ct);
            await EnterGroupRateAsync(script.Start, ct);
        }

        await using var scope = scopes.CreateAsyncScope();
        var passes = scope.ServiceProvider.GetRequiredService<EnginePasses>();
        // Emails are sent for the last days only: older ones the delivery gives up on as too late, as it would after an outage.
        var mailFrom = end.AddHours(-emails.GiveUpAfterHours);
        var now = start;
        var steps = 0;
        var billingRun = NextBillingRun(start);
        while (now < end)
        {
            var working = EnginePass.Collection | EnginePass.Ladder | EnginePass.Retries | (now >= mailFrom ? EnginePass.Emails : 0);
            EngineDue due;
            using (EngineClock.Enter(null, now)) due = await passes.NextDueAsync(null, now, ct);
            var next = _queue.TryPeek(out var upcoming, out _) ? new DateTimeOffset(upcoming.At, TimeSpan.Zero) : end;
            if (due.Earliest(working) is { } engineDue && engineDue < next) next = engineDue;
            var tick = Ceiling(next);
            if (tick <= now) tick = now + Tick;
            tick = new[] { tick, billingRun, end, now < mailFrom ? mailFrom : end }.Min();

            while (_queue.TryPeek(out var move, out _) && move.At <= tick.UtcDateTime)
            {
                _queue.Dequeue();
                using (EngineClock.Enter(null, new DateTimeOffset(move.At, TimeSpan.Zero))) await MakeAsync(move, ct);
            }
            var which = due.DueBy(tick, working) | (tick >= mailFrom ? EnginePass.Emails : 0);
            if (tick == billingRun)
            {
                which |= EnginePass.Billing | EnginePass.Collection;
                billingRun = NextBillingRun(tick);
            }
            using (EngineClock.Enter(null, tick))
            {
                await passes.RunAsync(which, ct);
                await AnswerEmailsAsync(now, tick, ct);
            }
            now = tick;
            if (++steps % 1000 == 0)
                logger.LogInformation("Demo history: {Now:yyyy-MM-dd HH:mm}, {Steps} steps, {Moves} moves", now, steps, _moves);
        }
        return new DemoPlay(steps, _moves, _refused);
    }

    /// <summary>The billing run's next time after <paramref name="after"/> on its configured schedule, as the recurring job has it.</summary>
    private DateTimeOffset NextBillingRun(DateTimeOffset after) =>
        BillingSettingsRules.NextRuns(billing.RunSchedule, billing.TimeZone, after, 1) is [var next] ? next
        : throw new InvalidOperationException($"Billing:RunSchedule '{billing.RunSchedule}' never fires.");

    private static DateTimeOffset Ceiling(DateTimeOffset at)
    {
        var ticks = (at.UtcTicks + Tick.Ticks - 1) / Tick.Ticks * Tick.Ticks;
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    private void Enqueue(DemoEvent move) => _queue.Enqueue(move, (move.At, move.Customer, move.Move));

    private async Task CreateCatalogAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var catalog = scope.ServiceProvider.GetRequiredService<CatalogCommands>();
        foreach (var plan in DemoCatalog.Plans)
        {
            var created = await catalog.CreatePlanAsync(new CreatePlan(plan.Code, plan.Name, plan.Description, plan.Prices), Admin, "The plans the business launched with.", ct);
            foreach (var price in created.Prices)
            {
                if (!EnumNames.TryParseSnakeCase<BillingInterval>(price.Interval, out var interval))
                    throw new InvalidOperationException($"The catalog answered an interval it does not know: {price.Interval}.");
                _prices[(plan.Tier, price.Currency, interval)] = price.Id;
            }
        }
    }

    /// <summary>VAT on the EU customers' invoices from the first day, as an admin sets it up on the tax settings page.</summary>
    private async Task CreateTaxTableAsync(DateTime start, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var rules = DemoPeople.Countries.Where(country => country.TaxRate > 0)
            .Select(country => new TaxRuleInput(country.Code, null, country.TaxRate * 100, DateOnly.FromDateTime(start))).ToList();
        await scope.ServiceProvider.GetRequiredService<TaxRuleCommands>().SaveAsync(
            new SaveTaxTable(DemoCatalog.SellerCountry, rules, "VAT for the EU countries we sell to."), Admin, ct);
    }

    /// <summary>
    /// The rate finance reports the euro prices in, entered by an admin on the exchange rates page from the first day, so the
    /// figures across currencies have a total in the reporting currency (USD) as well as their amounts per currency.
    /// </summary>
    private async Task EnterGroupRateAsync(DateTime start, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ExchangeRateCommands>().EnterRateAsync(new EnterExchangeRate
        {
            BaseCurrency = "EUR", QuoteCurrency = "USD", Rate = DemoCatalog.EuroInDollars, EffectiveOn = DateOnly.FromDateTime(start),
            Reason = "Group rate for reporting the euro prices in USD.",
        }, Admin, ct);
    }

    private static Actor Admin => new(Admins[0], AdminRole);

    private Actor Agent(int customer) => new(SupportAgents[(customer & int.MaxValue) % SupportAgents.Length], SupportRole);

    /// <summary>Makes one move through the engine's commands; a move the engine refuses at that moment is not made.</summary>
    private async Task MakeAsync(DemoEvent move, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        try
        {
            switch (move.Move)
            {
                case DemoMove.SignUp:
                case DemoMove.ComeBack:
                    await SignUpAsync(services, move, ct);
                    break;
                case DemoMove.Upgrade:
                case DemoMove.Downgrade:
                    await ChangePlanAsync(services, move, ct);
                    break;
                case DemoMove.CancelAtPeriodEnd:
                case DemoMove.CancelNow:
                    await services.GetRequiredService<SubscriptionCommands>().CancelAsync(_subscriptionIds[move.Customer],
                        new CancelSubscription(move.Move == DemoMove.CancelNow ? CancelWhen.Now : CancelWhen.AtPeriodEnd),
                        Agent(move.Customer), "The customer asked to cancel.", ct);
                    break;
                case DemoMove.GoodwillCredit:
                    await services.GetRequiredService<CustomerBalanceCommands>().AdjustAsync(_customerIds[move.Customer],
                        new AdjustBalance(BalanceDirections.Credit, move.Amount), Agent(move.Customer),
                        "Goodwill credit after a service interruption the customer reported.", ct);
                    break;
                case DemoMove.RetireLaunchPrice:
                    await RetireLaunchPriceAsync(services, ct);
                    break;
                case DemoMove.ReplaceCard:
                    await ReplaceCardAsync(services, move, ct);
                    break;
                case DemoMove.SupportRetry:
                    await services.GetRequiredService<DunningCommands>().RetryNowAsync(move.Invoice!.Value, Agent(move.Customer),
                        "The customer called: funds are available again, asked us to retry now.", ct);
                    break;
            }
            _moves++;
        }
        catch (Exception e) when (e is DomainRuleException or FluentValidation.ValidationException or ResourceNotFoundException)
        {
            _refused++;
            logger.LogDebug("Demo history: {Move} of customer {Customer} at {At:u} not made: {Reason}", move.Move, move.Customer, move.At, e.Message);
        }
    }

    private async Task SignUpAsync(IServiceProvider services, DemoEvent move, CancellationToken ct)
    {
        var customer = _script.Customers[move.Customer];
        var db = services.GetRequiredService<BillingDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!_customerIds.TryGetValue(move.Customer, out var customerId))
        {
            var customers = services.GetRequiredService<CustomerCommands>();
            customerId = (await customers.CreateAsync(customer.Details, Website, "Signed up on the website.", ct)).Id;
            await customers.AttachPaymentMethodAsync(customerId, new AttachPaymentMethod(Gateways.SandboxGateway.GatewayName, customer.CardToken,
                customer.Brand, customer.Last4, customer.CardExpires.Month, customer.CardExpires.Year), Website, "Card given at sign-up.", ct);
            _customerIds[move.Customer] = customerId;
            _indexOf[customerId] = move.Customer;
        }
        var tier = move.Move == DemoMove.ComeBack ? _tiers[move.Customer] : customer.Tier;
        var subscription = await services.GetRequiredService<SubscriptionCommands>().CreateAsync(
            new CreateSubscription(customerId, PriceOf(tier, customer.Details.Currency!, customer.Interval, move.At), customer.Quantity,
                move.Move == DemoMove.ComeBack ? 0 : null),
            Website, move.Move == DemoMove.ComeBack ? "Came back and subscribed again." : "Subscribed at sign-up.", ct);
        await transaction.CommitAsync(ct);
        _subscriptionIds[move.Customer] = subscription.Subscription.Id;
        _tiers[move.Customer] = tier;
    }

    private async Task ChangePlanAsync(IServiceProvider services, DemoEvent move, CancellationToken ct)
    {
        var customer = _script.Customers[move.Customer];
        var tier = _tiers[move.Customer] + (move.Move == DemoMove.Upgrade ? 1 : -1);
        if (!_prices.ContainsKey((tier, customer.Details.Currency!, BillingInterval.Month))) return;
        var upgrade = move.Move == DemoMove.Upgrade;
        await services.GetRequiredService<SubscriptionCommands>().ChangePlanAsync(_subscriptionIds[move.Customer],
            new ChangePlan(PriceOf(tier, customer.Details.Currency!, BillingInterval.Month, move.At),
                Math.Min(customer.Quantity, DemoCatalog.MaxQuantity(tier)), upgrade ? null : "at_period_end", null),
            Agent(move.Customer), upgrade ? "The customer upgraded for more seats and features." : "The customer moved to a smaller plan from the next period.", ct);
        _tiers[move.Customer] = tier;
    }

    private async Task RetireLaunchPriceAsync(IServiceProvider services, CancellationToken ct)
    {
        var catalog = services.GetRequiredService<CatalogCommands>();
        var launch = _prices[(1, "USD", BillingInterval.Month)];
        var plan = (await catalog.ListAsync(ct)).Single(p => p.Code == DemoCatalog.Plans[0].Code);
        var price = await catalog.AddPriceAsync(plan.Id, DemoCatalog.StarterPrice, Admin, "New Starter price for new customers.", ct);
        await catalog.ArchivePriceAsync(launch, Admin, "The launch price is no longer sold; its customers keep it.", ct);
        _prices[(1, "USD", BillingInterval.Month)] = price.Id;
    }

    private Guid PriceOf(int tier, string currency, BillingInterval interval, DateTime at) =>
        _prices.TryGetValue((tier, currency, interval), out var id) ? id
        : _prices.TryGetValue((tier, currency, BillingInterval.Month), out var monthly) ? monthly
        : throw new InvalidOperationException($"The demo catalog has no {currency} price for tier {tier} ({at:u}).");

    private async Task ReplaceCardAsync(IServiceProvider services, DemoEvent move, CancellationToken ct)
    {
        var customerId = _customerIds[move.Customer];
        var cards = services.GetRequiredService<CardUpdates>();
        var link = services.GetRequiredService<PayLinks>().TokenFor(customerId, await cards.CurrentMethodIdAsync(customerId, ct));
        await services.GetRequiredService<CustomerPayPage>().AttachSandboxCardAsync(link, "pm_ok_", ct);
    }

    /// <summary>
    /// The payment-failed emails of (<paramref name="from"/>, <paramref name="to"/>]: a customer who answers one does so once
    /// per invoice, by a new card on the pay page or by a call to support.
    /// </summary>
    private async Task AnswerEmailsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BillingDbContext>();
        var failed = await db.Notifications.AsNoTracking()
            .Where(n => n.Kind == NotificationKinds.PaymentFailed && n.CreatedAt > from && n.CreatedAt <= to && n.InvoiceId != null)
            .OrderBy(n => n.CreatedAt).ThenBy(n => n.InvoiceId)
            .Select(n => new { n.CustomerId, InvoiceId = n.InvoiceId!.Value, n.CreatedAt })
            .ToListAsync(ct);
        foreach (var notice in failed)
        {
            if (!_answeredInvoices.Add(notice.InvoiceId) || !_indexOf.TryGetValue(notice.CustomerId, out var index)) continue;
            var customer = _script.Customers[index];
            var random = new DemoRandom(seed ^ _answeredInvoices.Count, index);
            var sent = notice.CreatedAt.UtcDateTime;
            if (random.Chance(customer.RepliesToFailure))
                Enqueue(new DemoEvent(sent + customer.ReplyAfter, index, DemoMove.ReplaceCard, Invoice: notice.InvoiceId));
            else if (random.Chance(customer.CallsSupport))
                Enqueue(new DemoEvent(random.TimeOfDay(sent.AddDays(random.Between(1, 10))), index, DemoMove.SupportRetry, Invoice: notice.InvoiceId));
        }
    }
}
