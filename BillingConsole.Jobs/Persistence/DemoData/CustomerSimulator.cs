using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using static BillingConsole.Persistence.DemoData.DemoStaff;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// Plays one customer's life from sign-up to now, the way the billing engine would have recorded it: subscriptions and their
/// periods, invoices issued by the daily billing run, charges, dunning, plan changes, credits, cancellations. Every draw comes
/// from the customer's own random source, so the planning pass and the writing pass see exactly the same history.
/// </summary>
internal sealed partial class CustomerSimulator(DemoWorld world, ChunkOutput output)
{
    private static readonly int[] TierWeightsUsd = [48, 30, 16, 6];
    private static readonly int[] TeamSeatWeights = [50, 20, 15, 8, 7];
    private static readonly int[] BusinessSeatWeights = [60, 25, 15];
    private static readonly string[] EnglishSpeaking = ["US", "GB", "CA", "AU", "IE"];

    private readonly List<PaymentMethodRow> _cards = [];
    private DemoRandom _rng = null!;
    private DemoCountry _country = null!;
    private CustomerRow _customer = null!;
    private PaymentMethodRow _card = null!;

    public void Simulate(int customerIndex)
    {
        _rng = new DemoRandom(world.Seed, customerIndex);
        _cards.Clear();
        _country = DemoPeople.Countries[_rng.PickWeighted(DemoPeople.CountryWeights)];
        var signup = SampleSignup();
        var createdAt = signup - _rng.Seconds(60, 900);
        _customer = Describe(_rng.NewId(createdAt), createdAt, customerIndex);
        _card = AttachCard(createdAt + _rng.Seconds(20, 50));

        var first = SimulateSubscription(signup, returning: false);
        if (world.AllowsReturningCustomers
            && first is { CancellationKind: CancellationKind.Voluntary, CanceledAt: { } canceledAt }
            && first.Timeline[^2].Status != SubscriptionStatus.Trialing
            && _rng.Chance(0.12))
        {
            var back = _rng.TimeOfDay(canceledAt.AddDays(_rng.Between(15, 150)));
            if (back > canceledAt && back < world.Now.AddDays(-1))
            {
                if (_card.Behavior != "ok") _card = AttachCard(back - _rng.Seconds(30, 300));
                SimulateSubscription(back, returning: true);
            }
        }

        output.Customers.Add(_customer);
        output.PaymentMethods.AddRange(_cards);
    }

    /// <summary>Sign-ups grow about fivefold from the first month to the last.</summary>
    private DateTime SampleSignup()
    {
        const double growth = 1.6;
        var latest = world.Now.AddHours(-2);
        var position = Math.Log(1 + _rng.Next() * (Math.Exp(growth) - 1)) / growth;
        var raw = world.Start + (latest - world.Start) * position;
        var atWork = _rng.TimeOfDay(raw);
        return atWork >= world.Start && atWork < latest ? atWork : raw;
    }

    private CustomerRow Describe(Guid id, DateTime createdAt, int customerIndex)
    {
        var first = _rng.Pick(DemoPeople.FirstNames);
        var last = _rng.Pick(DemoPeople.LastNames);
        var person = $"{DemoPeople.AsciiSlug(first)}.{DemoPeople.AsciiSlug(last)}";
        string name, email;
        if (_rng.Chance(0.25))
        {
            name = $"{first} {last}";
            email = $"{person}{_rng.Next(1, 100)}@{_rng.Pick(DemoPeople.PersonalMailDomains)}";
        }
        else
        {
            var word = _rng.Pick(DemoPeople.CompanyWords);
            var kind = _rng.Pick(DemoPeople.CompanyKinds);
            name = _rng.Chance(0.6) ? $"{word} {kind} {_country.CompanySuffix}" : $"{word} {kind}";
            var domain = $"{DemoPeople.AsciiSlug(word)}{DemoPeople.AsciiSlug(kind)}.example";
            email = _rng.Chance(0.5) ? $"{_rng.Pick(DemoPeople.BillingMailboxes)}@{domain}" : $"{person}@{domain}";
        }

        var city = _rng.Pick(_country.Cities);
        var street = _rng.Pick(_country.Streets);
        var number = _rng.Next(1, 240);
        var postalCode = _rng.Pick(city.PostalCodes);
        var line2 = EnglishSpeaking.Contains(_country.Code) && _rng.Chance(0.3)
            ? _rng.Chance(0.5) ? $"Suite {_rng.Next(100, 990)}" : $"Floor {_rng.Next(2, 30)}"
            : null;
        var externalRef = _rng.Chance(0.85) ? $"crm_{customerIndex + 1:D7}" : null;
        return new CustomerRow(id, name, email, _country.Currency, externalRef, createdAt,
            _country.NumberFirst ? $"{number} {street}" : $"{street} {number}", line2, city.Name, postalCode, _country.Code);
    }

    private PaymentMethodRow AttachCard(DateTime at)
    {
        foreach (var card in _cards) card.IsDefault = false;
        var roll = _rng.Next(100);
        var expires = at.AddMonths(_rng.Next(24, 60));
        if (expires <= world.Now) expires = world.Now.AddMonths(_rng.Next(2, 36));
        var attached = new PaymentMethodRow(_rng.NewId(at), _customer.Id, _rng.Token(20),
            roll < 55 ? "visa" : roll < 87 ? "mastercard" : "amex", _rng.Digits(4), at)
        {
            ExpMonth = expires.Month,
            ExpYear = expires.Year,
        };
        _cards.Add(attached);
        return attached;
    }

    private (DemoPrice Price, int Quantity) ChoosePrice(DateTime signup)
    {
        var currency = _customer.Currency;
        var tier = currency == "USD" ? _rng.PickWeighted(TierWeightsUsd) + 1 : _rng.Chance(0.62) ? 1 : 2;
        var yearly = currency == "USD" && _rng.Chance(0.14);
        var price = world.Catalog.Find(tier, currency, yearly ? BillingInterval.Year : BillingInterval.Month)
                    ?? throw new InvalidOperationException($"The demo catalog has no {currency} price for tier {tier}.");
        if (price.Plan.Tier == 1 && currency == "USD" && !yearly && world.MonthOf(signup) < DemoCatalog.MonthsLegacyPriceWasSold)
            price = world.Catalog.LegacyStarter;
        var quantity = tier switch
        {
            2 => _rng.PickWeighted(TeamSeatWeights) + 1,
            3 => _rng.PickWeighted(BusinessSeatWeights) + 1,
            _ => 1,
        };
        return (price, quantity);
    }

    private static int MaxQuantity(int tier) => tier switch { 2 => 5, 3 => 3, _ => 1 };

    private SubscriptionRow SimulateSubscription(DateTime signup, bool returning)
    {
        var (price, quantity) = ChoosePrice(signup);
        var subscription = new SubscriptionRow(_rng.NewId(signup), _customer.Id, signup, price, quantity);
        var interval = price.Interval;
        var trial = !returning && price.TrialDays > 0;
        // Paid periods start when the trial ends, or on the day of sign-up, and keep that day of month.
        var anchor = trial ? signup.Date.AddDays(price.TrialDays) : signup.Date;
        subscription.BillingAnchorDay = world.Calendar.AnchorDayOf(Utc(anchor));
        if (trial)
        {
            subscription.TrialEnd = anchor;
            subscription.CurrentPeriodStart = signup;
            subscription.CurrentPeriodEnd = anchor;
            subscription.Mark(signup, SubscriptionStatus.Trialing);
            if (_rng.Chance(0.22))
            {
                var quitAt = _rng.Within(signup, anchor);
                if (quitAt <= world.Now)
                {
                    subscription.Cancel(quitAt, CancellationKind.Voluntary);
                    return Finish(subscription);
                }
            }
            if (anchor > world.Now) return Finish(subscription);
        }
        else
        {
            subscription.Mark(signup, SubscriptionStatus.Active);
        }

        var end = anchor;
        for (var period = 0; ; period++)
        {
            var start = end;
            end = world.Calendar.NextPeriodEnd(Utc(start), interval, subscription.BillingAnchorDay).UtcDateTime;
            var current = end > world.Now;
            subscription.CurrentPeriodStart = start;
            subscription.CurrentPeriodEnd = end;

            var byRun = trial || period > 0;
            DateTime issuedAt;
            if (byRun)
            {
                issuedAt = Earlier(world.BillingRunAt(world.DayOf(start)) + _rng.Seconds(2, 900), world.Now);
                if (subscription.PendingPrice is { } pending)
                {
                    subscription.Price = pending;
                    subscription.Quantity = subscription.PendingQuantity ?? subscription.Quantity;
                    subscription.PendingPrice = null;
                    subscription.PendingQuantity = null;
                }
                subscription.Mark(issuedAt, SubscriptionStatus.Active);
            }
            else
            {
                issuedAt = signup + _rng.Seconds(3, 40);
            }

            var invoice = IssueCycleInvoice(subscription, start, end, issuedAt, byRun ? world.BillingRunId(world.DayOf(issuedAt)) : null);
            var chargeAt = Earlier(issuedAt + _rng.Seconds(0.3, 20), world.Now);
            DateTime settledAt;
            if (current && issuedAt >= world.Now.AddDays(-2) && _rng.Chance(0.012))
            {
                _card.Behavior = "timeout";
                var unknown = Attempt(invoice, chargeAt, PaymentTrigger.BillingRun, PaymentAttemptStatus.Unknown, DeclineCodes.GatewayTimeout);
                if (byRun) output.RecordRunCharge(issuedAt, unknown);
                return Finish(subscription);
            }
            if (_rng.Chance(FailureProbability(subscription, afterTrial: trial && period == 0)))
            {
                var behavior = SampleBehavior(chargeAt);
                var failure = Attempt(invoice, chargeAt, PaymentTrigger.BillingRun, PaymentAttemptStatus.Failed, Report(behavior));
                if (byRun) output.RecordRunCharge(issuedAt, failure);
                subscription.Mark(failure.CompletedAt, SubscriptionStatus.PastDue);
                if (RunDunning(subscription, invoice, behavior, failure, renewal: period > 0) is not { } recoveredAt)
                    return Finish(subscription);
                settledAt = recoveredAt;
            }
            else
            {
                var payment = Pay(invoice, chargeAt, PaymentTrigger.BillingRun);
                if (byRun) output.RecordRunCharge(issuedAt, payment);
                settledAt = payment.CompletedAt;
            }

            if (LivePeriod(subscription, settledAt, start, end) || current) return Finish(subscription);
        }
    }

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));

    private static DateTime Earlier(DateTime a, DateTime b) => a < b ? a : b;

    private SubscriptionRow Finish(SubscriptionRow subscription)
    {
        output.Subscriptions.Add(subscription);
        return subscription;
    }

    private static double FailureProbability(SubscriptionRow subscription, bool afterTrial)
    {
        var probability = 0.055;
        if (subscription.Price.Plan.Tier == 1) probability += 0.02;
        if (subscription.Price.Plan.Tier == 4) probability -= 0.03;
        if (subscription.Price.Interval == BillingInterval.Year) probability += 0.03;
        if (afterTrial) probability += 0.05;
        return probability;
    }

    /// <summary>
    /// What happens during a paid-up period: credits, cancellations, plan changes, pauses. True when the subscription's story
    /// ends here (canceled or paused).
    /// </summary>
    private bool LivePeriod(SubscriptionRow subscription, DateTime from, DateTime start, DateTime end)
    {
        var yearly = subscription.Price.Interval == BillingInterval.Year;
        if (_rng.Chance(yearly ? 0.12 : 0.01))
        {
            var grantedAt = _rng.Within(from, end);
            if (grantedAt <= world.Now) GrantCredit(subscription, grantedAt);
        }

        var tier = subscription.Price.Plan.Tier;
        var cancel = yearly ? 0.18 : tier switch { 1 => 0.035, 2 => 0.025, 3 => 0.015, _ => 0.008 };
        var upgrade = yearly || tier == 4 ? 0 : 0.015;
        var downgrade = yearly || tier == 1 ? 0 : 0.007;
        var pause = yearly ? 0 : 0.004;
        var roll = _rng.Next();
        var when = _rng.Within(from, end);
        if (when > world.Now) return false;

        if (roll < cancel) return CancelVoluntarily(subscription, when, end);
        roll -= cancel;
        if (roll < upgrade)
        {
            Upgrade(subscription, when, start, end);
            return false;
        }
        roll -= upgrade;
        if (roll < downgrade)
        {
            ScheduleDowngrade(subscription);
            return false;
        }
        roll -= downgrade;
        if (roll < pause && when >= world.Now.AddDays(-75))
        {
            subscription.Mark(when, SubscriptionStatus.Paused);
            return true;
        }
        return false;
    }

    private bool CancelVoluntarily(SubscriptionRow subscription, DateTime requestedAt, DateTime periodEnd)
    {
        if (_rng.Chance(0.1))
        {
            subscription.Cancel(requestedAt, CancellationKind.Voluntary);
            return true;
        }
        if (periodEnd <= world.Now)
        {
            var at = Earlier(world.BillingRunAt(world.DayOf(periodEnd)) + _rng.Seconds(2, 900), world.Now);
            subscription.Cancel(at, CancellationKind.Voluntary);
            return true;
        }
        subscription.CancelAtPeriodEnd = true;
        return false;
    }

    private void Upgrade(SubscriptionRow subscription, DateTime at, DateTime start, DateTime end)
    {
        if (end - at < TimeSpan.FromDays(1)) return;
        var from = subscription.Price;
        var tier = from.Plan.Tier;
        var to = (tier <= 2 && _rng.Chance(0.2) ? world.Catalog.Find(tier + 2, from.Currency, BillingInterval.Month) : null)
                 ?? world.Catalog.Find(tier + 1, from.Currency, BillingInterval.Month);
        if (to is null) return;
        var quantity = Math.Min(subscription.Quantity, MaxQuantity(to.Plan.Tier));
        IssuePlanChangeInvoice(subscription, to, quantity, at, start, end);
        subscription.Price = to;
        subscription.Quantity = quantity;
        subscription.PendingPrice = null;
        subscription.PendingQuantity = null;
        subscription.Mark(at, SubscriptionStatus.Active);
    }

    /// <summary>Downgrades wait for the end of the period; the billing run switches the price when it starts the next one.</summary>
    private void ScheduleDowngrade(SubscriptionRow subscription)
    {
        var from = subscription.Price;
        var to = world.Catalog.Find(from.Plan.Tier - 1, from.Currency, BillingInterval.Month);
        if (to is null) return;
        subscription.PendingPrice = to;
        subscription.PendingQuantity = Math.Min(subscription.Quantity, MaxQuantity(to.Plan.Tier));
    }

    private void GrantCredit(SubscriptionRow subscription, DateTime at)
    {
        var monthly = subscription.Price.MonthlyAmount * subscription.Quantity;
        var amount = Math.Max(5m, Math.Round(monthly * (decimal)_rng.Between(0.15, 0.45), 0, MidpointRounding.AwayFromZero));
        var grantId = _rng.NewId(at);
        var agent = _rng.Pick(SupportAgents);
        var reason = CreditReason(_rng, at);
        var before = _customer.CreditBalance;
        _customer.CreditBalance += amount;
        output.PostCreditGranted(grantId, _customer.Id, _customer.Currency, amount, at);
        if (!output.WantsRows) return;
        output.Audit(agent, SupportRole, "customer.grant_credit", "customer", _customer.Id, reason,
            Invariant($$"""{"credit_balance":"{{Amount(before)}}","currency":"{{_customer.Currency}}"}"""),
            Invariant($$"""{"credit_balance":"{{Amount(_customer.CreditBalance)}}","currency":"{{_customer.Currency}}","granted":"{{Amount(amount)}}"}"""),
            at);
    }
}
