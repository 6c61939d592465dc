using BillingConsole.Domain.Catalog;
using BillingConsole.Engine.Commands;

namespace BillingConsole.Persistence.DemoData;

/// <summary>What a demo customer does, on their own, at a moment of the history.</summary>
internal enum DemoMove
{
    SignUp,
    Upgrade,
    Downgrade,
    CancelAtPeriodEnd,
    CancelNow,
    GoodwillCredit,
    ComeBack,
    /// <summary>An admin adds Starter's new price and archives the launch price (<see cref="DemoCatalog"/>); no customer.</summary>
    RetireLaunchPrice,
    /// <summary>The customer answers a payment-failed email: they open its pay link and give a new card.</summary>
    ReplaceCard,
    /// <summary>The customer calls support, who retries their failed invoice at once.</summary>
    SupportRetry,
}

/// <param name="Invoice">The failed invoice a reaction to an email is about.</param>
internal sealed record DemoEvent(DateTime At, int Customer, DemoMove Move, decimal Amount = 0, Guid? Invoice = null);

/// <summary>One customer of the script: who they are, what they buy, their card, and how they answer a payment-failed email.</summary>
internal sealed record DemoCustomer(
    int Index,
    CreateCustomer Details,
    int Tier,
    BillingInterval Interval,
    int Quantity,
    string CardToken,
    string Brand,
    string Last4,
    DateTime CardExpires,
    double RepliesToFailure,
    TimeSpan ReplyAfter,
    double CallsSupport);

/// <summary>
/// The seeded script of customer behaviour the demo history is played from: who signs up when (about fivefold growth over the
/// months), with which plan and card, and the moves each makes on their own afterwards (plan changes, cancellations, credits
/// support grants, coming back). It says nothing about invoices, charges or dunning: those are the engine's, as it plays.
/// A move the engine refuses when its time comes (a plan change while dunning blocks it, a cancellation of a canceled
/// subscription) is simply not made. The same seed always gives the same script.
/// </summary>
internal sealed class DemoScript
{
    private static readonly int[] TierWeightsUsd = [48, 30, 16, 6];
    private static readonly int[] TeamSeatWeights = [50, 20, 15, 8, 7];
    private static readonly int[] BusinessSeatWeights = [60, 25, 15];
    private static readonly string[] EnglishSpeaking = ["US", "GB", "CA", "AU", "IE"];

    public DemoScript(int seed, int customers, DateTime start, DateTime end, bool oneSubscriptionEach)
    {
        Start = start;
        End = end;
        var events = new List<DemoEvent>();
        var people = new List<DemoCustomer>(customers);
        for (var index = 0; index < customers; index++)
        {
            var random = new DemoRandom(seed, index);
            var signUp = SampleSignUp(random);
            var customer = Describe(random, index, signUp);
            people.Add(customer);
            events.Add(new DemoEvent(signUp, index, DemoMove.SignUp));
            PlanMoves(random, customer, signUp, events, oneSubscriptionEach);
        }
        events.Add(new DemoEvent(start.AddMonths(DemoCatalog.MonthsLegacyPriceWasSold), -1, DemoMove.RetireLaunchPrice));
        Customers = people;
        Events = events.OrderBy(e => e.At).ThenBy(e => e.Customer).ThenBy(e => e.Move).ToList();
    }

    public DateTime Start { get; }
    public DateTime End { get; }
    public IReadOnlyList<DemoCustomer> Customers { get; }
    public IReadOnlyList<DemoEvent> Events { get; }

    /// <summary>Sign-ups grow about fivefold from the first month to the last.</summary>
    private DateTime SampleSignUp(DemoRandom random)
    {
        const double growth = 1.6;
        var latest = End.AddHours(-6);
        var position = Math.Log(1 + random.Next() * (Math.Exp(growth) - 1)) / growth;
        var raw = Start + (latest - Start) * position;
        var atWork = random.TimeOfDay(raw);
        return atWork >= Start && atWork < latest ? atWork : raw;
    }

    private static DemoCustomer Describe(DemoRandom random, int index, DateTime signUp)
    {
        var country = DemoPeople.Countries[random.PickWeighted(DemoPeople.CountryWeights)];
        var first = random.Pick(DemoPeople.FirstNames);
        var last = random.Pick(DemoPeople.LastNames);
        var person = $"{DemoPeople.AsciiSlug(first)}.{DemoPeople.AsciiSlug(last)}";
        string name, email;
        if (random.Chance(0.25))
        {
            name = $"{first} {last}";
            email = $"{person}{random.Next(1, 100)}@{random.Pick(DemoPeople.PersonalMailDomains)}";
        }
        else
        {
            var word = random.Pick(DemoPeople.CompanyWords);
            var kind = random.Pick(DemoPeople.CompanyKinds);
            name = random.Chance(0.6) ? $"{word} {kind} {country.CompanySuffix}" : $"{word} {kind}";
            var domain = $"{DemoPeople.AsciiSlug(word)}{DemoPeople.AsciiSlug(kind)}.example";
            email = random.Chance(0.5) ? $"{random.Pick(DemoPeople.BillingMailboxes)}@{domain}" : $"{person}@{domain}";
        }
        var city = random.Pick(country.Cities);
        var street = random.Pick(country.Streets);
        var number = random.Next(1, 240);
        var line2 = EnglishSpeaking.Contains(country.Code) && random.Chance(0.3)
            ? random.Chance(0.5) ? $"Suite {random.Next(100, 990)}" : $"Floor {random.Next(2, 30)}"
            : null;
        var address = new AddressInput(country.NumberFirst ? $"{number} {street}" : $"{street} {number}", line2, city.Name,
            random.Pick(city.PostalCodes), country.Code);
        var externalRef = random.Chance(0.85) ? $"crm_{index + 1:D7}" : null;

        var currency = country.Currency;
        var tier = currency == "USD" ? random.PickWeighted(TierWeightsUsd) + 1 : random.Chance(0.62) ? 1 : 2;
        var yearly = currency == "USD" && tier < 4 && random.Chance(0.14);
        var quantity = tier switch
        {
            2 => random.PickWeighted(TeamSeatWeights) + 1,
            3 => random.PickWeighted(BusinessSeatWeights) + 1,
            _ => 1,
        };
        // How often this customer's bank declines a first charge, in percent: small plans and yearly renewals fail more.
        var risk = 4 + (tier == 1 ? 2 : 0) - (tier == 4 ? 3 : 0) + (yearly ? 3 : 0) + random.Next(0, 4);
        var roll = random.Next(100);
        var expires = signUp.AddMonths(random.Next(12, 60));
        return new DemoCustomer(index, new CreateCustomer(name, email, currency, address, externalRef), tier,
            yearly ? BillingInterval.Year : BillingInterval.Month, quantity, $"{Gateways.SandboxBank.Prefix}{risk}_{random.Token(16)}",
            roll < 55 ? "visa" : roll < 87 ? "mastercard" : "amex", random.Digits(4), expires,
            RepliesToFailure: random.Between(0.1, 0.6), ReplyAfter: TimeSpan.FromHours(2 + 200 * Math.Pow(random.Next(), 2)),
            CallsSupport: random.Between(0.1, 0.4));
    }

    /// <summary>Month by month after sign-up: the chance of leaving, moving up or down a plan, or being granted a credit.</summary>
    private void PlanMoves(DemoRandom random, DemoCustomer customer, DateTime signUp, List<DemoEvent> events, bool oneSubscriptionEach)
    {
        var yearly = customer.Interval == BillingInterval.Year;
        var tier = customer.Tier;
        for (var month = 0; ; month++)
        {
            var from = signUp.AddDays(30 * month + 1);
            if (from >= End) return;
            var at = random.Within(from, from.AddDays(29));
            if (at >= End) return;
            var cancel = (month == 0 ? 0.08 : 0) + (yearly ? 0.015 : tier switch { 1 => 0.035, 2 => 0.025, 3 => 0.015, _ => 0.008 });
            var upgrade = yearly || tier == 4 ? 0 : 0.015;
            var downgrade = yearly || tier == 1 ? 0 : 0.007;
            var credit = yearly ? 0.01 : 0.008;
            var roll = random.Next();
            if (roll < cancel)
            {
                events.Add(new DemoEvent(at, customer.Index, random.Chance(0.1) ? DemoMove.CancelNow : DemoMove.CancelAtPeriodEnd));
                var back = random.TimeOfDay(at.AddDays(random.Between(45, 150)));
                if (!oneSubscriptionEach && random.Chance(0.12) && back < End) events.Add(new DemoEvent(back, customer.Index, DemoMove.ComeBack));
                return;
            }
            roll -= cancel;
            if (roll < upgrade)
            {
                events.Add(new DemoEvent(at, customer.Index, DemoMove.Upgrade));
                tier++;
                continue;
            }
            roll -= upgrade;
            if (roll < downgrade)
            {
                events.Add(new DemoEvent(at, customer.Index, DemoMove.Downgrade));
                tier--;
                continue;
            }
            roll -= downgrade;
            if (roll < credit) events.Add(new DemoEvent(at, customer.Index, DemoMove.GoodwillCredit, random.Next(2, 10) * 5m));
        }
    }
}
