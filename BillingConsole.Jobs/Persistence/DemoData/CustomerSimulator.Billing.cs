using System.Globalization;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Domain.Subscriptions;
using static BillingConsole.Persistence.DemoData.DemoStaff;

namespace BillingConsole.Persistence.DemoData;

internal sealed partial class CustomerSimulator
{
    /// <summary>Why a first charge fails, before the gateway may blur it into generic_decline.</summary>
    private static readonly string[] Behaviors =
    [
        DeclineCodes.InsufficientFunds, DeclineCodes.DoNotHonor, DeclineCodes.TryAgainLater, DeclineCodes.ExpiredCard,
        DeclineCodes.LostCard, DeclineCodes.StolenCard, DeclineCodes.Fraudulent, DeclineCodes.AccountClosed,
    ];

    private static readonly int[] BehaviorWeights = [450, 200, 80, 120, 25, 25, 30, 20];

    /// <summary>Days after the failure that the statistical scheduler aims its retries at, before nudging them to paydays.</summary>
    private static readonly double[] RetryOffsetDays = [1, 2.5, 4, 6, 8, 11, 14, 18];

    private static readonly double[] RetryHourWeights =
        [0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1, 2, 4, 4, 3.5, 2.5, 2, 2, 1.8, 1.5, 1.2, 1, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];

    private static readonly double RetryHourTotal = RetryHourWeights.Sum();

    private enum DunningMove { Retry, ManualRetry, NewCard, Void, MarkUnpaid }

    private InvoiceRow IssueCycleInvoice(SubscriptionRow subscription, DateTime start, DateTime end, DateTime issuedAt, Guid? billingRunId)
    {
        var price = subscription.Price;
        var id = _rng.NewId(issuedAt);
        var line = Line(id, InvoiceLineKind.Recurring, "{0} plan × {1}", price, subscription.Quantity, price.Amount,
            price.Amount * subscription.Quantity, start, end, issuedAt);
        var tax = Cents(line.Amount * _country.TaxRate);
        var total = line.Amount + tax;
        var credit = Math.Min(_customer.CreditBalance, Math.Floor(total * 50m) / 100m);
        _customer.CreditBalance -= credit;
        var invoice = new InvoiceRow(id, output.NextInvoiceNumber(issuedAt), _customer.Id, subscription.Id, InvoiceKind.SubscriptionCycle,
            price.Currency, start, end, issuedAt, billingRunId, line.Amount, tax, total, credit);
        output.Invoices.Add(invoice);
        output.InvoiceLines.Add(line with { TaxRate = _country.TaxRate, TaxAmount = tax, TaxCountry = _country.Code });
        output.PostInvoiceIssued(invoice);
        if (billingRunId is not null) output.RecordRunInvoice(issuedAt);
        return invoice;
    }

    /// <summary>An immediate upgrade: credit for the unused part of the old price, charge for the rest of the period at the new one.</summary>
    private void IssuePlanChangeInvoice(SubscriptionRow subscription, DemoPrice to, int quantity, DateTime at, DateTime start, DateTime end)
    {
        var from = subscription.Price;
        var fraction = Math.Round((decimal)((end - at).TotalSeconds / (end - start).TotalSeconds), 6);
        var id = _rng.NewId(at);
        var credit = Line(id, InvoiceLineKind.ProrationCredit, "Unused time on {0} plan × {1}", from, subscription.Quantity,
            -Math.Round(from.Amount * fraction, 4, MidpointRounding.AwayFromZero), -Cents(from.Amount * subscription.Quantity * fraction), at, end, at);
        var charge = Line(id, InvoiceLineKind.ProrationCharge, "Remaining time on {0} plan × {1}", to, quantity,
            Math.Round(to.Amount * fraction, 4, MidpointRounding.AwayFromZero), Cents(to.Amount * quantity * fraction), at, end, at);
        var subtotal = credit.Amount + charge.Amount;
        var tax = Cents(subtotal * _country.TaxRate);
        var invoice = new InvoiceRow(id, output.NextInvoiceNumber(at), _customer.Id, subscription.Id, InvoiceKind.PlanChange,
            to.Currency, at, end, at, null, subtotal, tax, subtotal + tax, 0m);
        output.Invoices.Add(invoice);
        // One rate on both lines; the charge, the larger, carries the tax.
        output.InvoiceLines.Add(credit with { TaxRate = _country.TaxRate, TaxCountry = _country.Code });
        output.InvoiceLines.Add(charge with { TaxRate = _country.TaxRate, TaxAmount = tax, TaxCountry = _country.Code });
        output.PostInvoiceIssued(invoice);
        Pay(invoice, Earlier(at + _rng.Seconds(1, 15), world.Now), PaymentTrigger.BillingRun);
    }

    /// <summary>A line such as "Team plan × 3 (Mar 1 – Apr 1, 2026)"; <paramref name="text"/> takes the plan name and quantity.</summary>
    private InvoiceLineRow Line(Guid invoiceId, InvoiceLineKind kind, string text, DemoPrice price, int quantity, decimal unitAmount,
        decimal amount, DateTime start, DateTime end, DateTime at)
    {
        var description = output.WantsRows ? $"{string.Format(CultureInfo.InvariantCulture, text, price.Plan.Name, quantity)} ({Span(start, end)})" : string.Empty;
        return new InvoiceLineRow(_rng.NewId(at), invoiceId, kind, description, quantity, price.Currency, start, end, price.Id, unitAmount, amount);
    }

    private static decimal Cents(decimal amount) => Math.Round(amount, 2, MidpointRounding.AwayFromZero);

    /// <summary>"Mar 1 – Apr 1, 2026", or "Dec 1, 2025 – Jan 1, 2026" across a year end.</summary>
    private static string Span(DateTime from, DateTime to) =>
        from.Year == to.Year ? Invariant($"{from:MMM d} – {to:MMM d, yyyy}") : Invariant($"{from:MMM d, yyyy} – {to:MMM d, yyyy}");

    private PaymentAttemptRow Attempt(InvoiceRow invoice, DateTime startedAt, PaymentTrigger trigger, PaymentAttemptStatus status, string? declineCode)
    {
        startedAt = Earlier(startedAt, world.Now);
        var latency = status switch
        {
            PaymentAttemptStatus.Succeeded => _rng.Chance(0.03) ? _rng.Next(2000, 6500) : _rng.Next(280, 1400),
            PaymentAttemptStatus.Failed => _rng.Next(180, 900),
            _ => 30_000,
        };
        latency = (int)Math.Min(latency, (world.Now - startedAt).TotalMilliseconds);
        var attempt = new PaymentAttemptRow(_rng.NewId(startedAt), invoice.Id, _customer.Id, _card.Id, ++invoice.AttemptCount,
            invoice.Currency, trigger, status, declineCode, declineCode is null ? null : FailureMessage(declineCode),
            status == PaymentAttemptStatus.Succeeded ? $"ch_sandbox_{_rng.Token(24)}" : null,
            startedAt, startedAt.AddMilliseconds(latency), latency, invoice.AmountPayable);
        output.PaymentAttempts.Add(attempt);
        return attempt;
    }

    private PaymentAttemptRow Pay(InvoiceRow invoice, DateTime at, PaymentTrigger trigger)
    {
        var attempt = Attempt(invoice, at, trigger, PaymentAttemptStatus.Succeeded, null);
        invoice.Status = InvoiceStatus.Paid;
        invoice.AmountPaid = attempt.Amount;
        invoice.PaidAt = attempt.CompletedAt;
        output.PostPayment(invoice, attempt);
        return attempt;
    }

    private static string FailureMessage(string declineCode) => declineCode switch
    {
        DeclineCodes.InsufficientFunds => "Your card has insufficient funds.",
        DeclineCodes.DoNotHonor => "The card issuer declined the payment (do not honor).",
        DeclineCodes.TryAgainLater => "The card issuer could not process the payment right now; try again later.",
        DeclineCodes.ExpiredCard => "The card has expired.",
        DeclineCodes.LostCard => "The card has been reported lost.",
        DeclineCodes.StolenCard => "The card has been reported stolen.",
        DeclineCodes.Fraudulent => "The payment was declined as suspected fraud.",
        DeclineCodes.AccountClosed => "The card's account has been closed.",
        DeclineCodes.GatewayTimeout => "The gateway did not answer in time (ERR_GATEWAY_TIMEOUT).",
        _ => "The card was declined.",
    };

    /// <summary>Why this card fails. An expired card gets an expiry date just before the failure.</summary>
    private string SampleBehavior(DateTime at)
    {
        var behavior = Behaviors[_rng.PickWeighted(BehaviorWeights)];
        if (behavior != DeclineCodes.ExpiredCard) return behavior;
        var lastValidMonth = new DateTime(at.Year, at.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-1);
        if (_card.CreatedAt >= lastValidMonth) return DeclineCodes.InsufficientFunds;
        _card.ExpMonth = lastValidMonth.Month;
        _card.ExpYear = lastValidMonth.Year;
        return behavior;
    }

    /// <summary>The code the gateway reports: hard declines come through exactly; soft ones are sometimes just generic.</summary>
    private string Report(string behavior) =>
        !world.Policy.IsHardDecline(behavior) && _rng.Chance(0.068) ? DeclineCodes.GenericDecline : behavior;

    private static bool IsPayday(DateTime day) => day.Day is 1 or 2 or 15 or 16 || day.AddDays(1).Month != day.Month;

    /// <summary>
    /// How likely a retry at this moment is to succeed: paydays and weekday mornings recover far more often, and each failed
    /// retry makes the next one a little less hopeful. The engine's statistical scheduler learns exactly this from the history.
    /// </summary>
    private static double RecoveryChance(string behavior, DateTime at, int retryNumber)
    {
        var chance = behavior switch
        {
            DeclineCodes.InsufficientFunds => 0.16,
            DeclineCodes.DoNotHonor => 0.10,
            DeclineCodes.TryAgainLater => 0.42,
            _ => 0.12,
        };
        if (IsPayday(at)) chance *= 1.9;
        chance *= at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.65 : 1.1;
        if (at.Hour is >= 7 and <= 11) chance *= 1.15;
        else if (at.Hour < 6) chance *= 0.75;
        chance *= Math.Max(0.5, 1 - 0.06 * (retryNumber - 1));
        return Math.Round(Math.Clamp(chance, 0.02, 0.85), 4);
    }

    private List<DateTime> PlanRetries(DateTime openedAt, DateTime finalAt, int budget)
    {
        var plan = new List<DateTime>(budget);
        var earliest = openedAt.AddHours(world.Policy.GracePeriodHours);
        var previous = openedAt;
        foreach (var offset in RetryOffsetDays)
        {
            if (plan.Count >= budget) break;
            var day = openedAt.AddDays(offset + _rng.Between(-0.4, 0.4)).Date;
            if (_rng.Chance(0.6))
            {
                for (var ahead = 0; ahead <= 2; ahead++)
                {
                    if (!IsPayday(day.AddDays(ahead))) continue;
                    day = day.AddDays(ahead);
                    break;
                }
            }
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday && _rng.Chance(0.7))
                day = day.AddDays(day.DayOfWeek == DayOfWeek.Saturday ? 2 : 1);
            var at = day.AddHours(_rng.PickWeighted(RetryHourWeights, RetryHourTotal)).AddMinutes(_rng.Next(60));
            if (at < earliest) at = earliest.AddMinutes(_rng.Next(5, 120));
            if (at < previous.AddHours(12)) at = previous.AddHours(12 + _rng.Between(0, 6));
            if (at >= finalAt) break;
            plan.Add(at);
            previous = at;
        }
        return plan;
    }

    private int EscalationStep(DateTime openedAt, DateTime at)
    {
        var days = (at - openedAt).TotalDays;
        return world.Policy.Ladder.Count(step => step.Day <= days);
    }

    private bool PlanChangesBlockedAt(DateTime openedAt, DateTime at)
    {
        var days = (at - openedAt).TotalDays;
        return world.Policy.Ladder.Any(step => step.Action == EscalationAction.BlockPlanChanges && step.Day <= days);
    }

    /// <summary>
    /// Collects a failed invoice under the dunning policy: scheduled retries for soft declines, a new card for hard ones, now and
    /// then a support agent. Returns when the invoice was paid, or null when the subscription's story ends here (written off and
    /// canceled, voided and canceled, or still being collected now).
    /// </summary>
    private DateTime? RunDunning(SubscriptionRow subscription, InvoiceRow invoice, string behavior, PaymentAttemptRow failure, bool renewal)
    {
        var policy = world.Policy;
        var openedAt = failure.CompletedAt;
        var hard = policy.IsHardDecline(behavior);
        var finalAt = openedAt.AddDays(policy.FinalActionDay);
        var dunningCase = new DunningCaseRow(_rng.NewId(openedAt), invoice.Id, _customer.Id, subscription.Id, invoice.Currency,
            invoice.AmountDue, openedAt, hard ? DunningStatus.AwaitingPaymentMethod : DunningStatus.RetryPending)
        {
            LastDeclineCode = failure.DeclineCode,
        };
        output.DunningCases.Add(dunningCase);
        _card.Behavior = behavior;

        var moves = new List<(DateTime At, DunningMove Move)>();
        void Plan(DateTime? at, DunningMove move)
        {
            if (at is { } when && when > openedAt && when < finalAt) moves.Add((when, move));
        }
        var manualRetry = !hard && _rng.Chance(0.10);
        Plan(manualRetry ? _rng.TimeOfDay(openedAt.AddDays(_rng.Between(2, 12))) : null, DunningMove.ManualRetry);
        var retries = hard ? [] : PlanRetries(openedAt, finalAt, policy.EffectiveBudget - (manualRetry ? 1 : 0));
        foreach (var retry in retries) Plan(retry, DunningMove.Retry);
        var newCardAfterDays = hard ? 0.3 + 20 * Math.Pow(_rng.Next(), 1.6) : _rng.Between(2, 20);
        Plan(_rng.Chance(hard ? 0.55 : 0.18) ? _rng.TimeOfDay(openedAt.AddDays(newCardAfterDays)) : null, DunningMove.NewCard);
        Plan(renewal && invoice.CreditApplied == 0m && _rng.Chance(0.02) ? _rng.TimeOfDay(openedAt.AddDays(_rng.Between(0.6, 6))) : null, DunningMove.Void);
        Plan(_rng.Chance(0.04) ? _rng.TimeOfDay(openedAt.AddDays(_rng.Between(3, 12))) : null, DunningMove.MarkUnpaid);
        moves.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Move.CompareTo(b.Move));

        var retriesLeft = retries.Count;
        var latest = world.Now.AddMinutes(-2);
        DateTime? nextRetry = null;
        foreach (var (at, move) in moves)
        {
            if (at > latest)
            {
                if (move == DunningMove.Retry) nextRetry ??= at;
                continue;
            }
            if (nextRetry is not null) continue;
            switch (move)
            {
                case DunningMove.Retry:
                case DunningMove.ManualRetry:
                {
                    var manual = move == DunningMove.ManualRetry;
                    if (!manual) retriesLeft--;
                    dunningCase.RetriesMade++;
                    var succeeds = _rng.Chance(manual ? 0.5 : RecoveryChance(behavior, at, dunningCase.RetriesMade));
                    var trigger = manual ? PaymentTrigger.Manual : PaymentTrigger.DunningRetry;
                    var attempt = succeeds ? Pay(invoice, at, trigger) : Attempt(invoice, at, trigger, PaymentAttemptStatus.Failed, Report(behavior));
                    if (manual) AuditManualRetry(invoice, attempt, at);
                    if (succeeds) return Recover(subscription, dunningCase, attempt.CompletedAt);
                    dunningCase.LastDeclineCode = attempt.DeclineCode;
                    dunningCase.UpdatedAt = attempt.CompletedAt;
                    if (!manual && retriesLeft == 0)
                    {
                        var exhaustedAt = Earlier(attempt.CompletedAt.AddMinutes(_rng.Between(1, 10)), world.Now);
                        Exhaust(subscription, invoice, dunningCase, exhaustedAt);
                        return null;
                    }
                    break;
                }
                case DunningMove.NewCard:
                {
                    if (hard) _card.DetachedAt = at;
                    _card = AttachCard(at);
                    if (hard) dunningCase.Status = DunningStatus.RetryPending;
                    dunningCase.RetriesMade++;
                    var attempt = Pay(invoice, Earlier(at + _rng.Seconds(5, 90), world.Now), PaymentTrigger.NewPaymentMethod);
                    return Recover(subscription, dunningCase, attempt.CompletedAt);
                }
                case DunningMove.Void:
                    VoidAndCancel(subscription, invoice, dunningCase, at);
                    return null;
                case DunningMove.MarkUnpaid:
                    if (subscription.Status != SubscriptionStatus.PastDue) break;
                    subscription.Mark(at, SubscriptionStatus.Unpaid);
                    dunningCase.UpdatedAt = at;
                    output.Audit(_rng.Pick(SupportAgents), SupportRole, "subscription.mark_unpaid", "subscription", subscription.Id,
                        _rng.Pick(UnpaidReasons), """{"status":"past_due"}""", """{"status":"unpaid"}""", at);
                    break;
            }
        }

        if (nextRetry is null && finalAt <= world.Now)
        {
            Exhaust(subscription, invoice, dunningCase, finalAt);
            return null;
        }

        dunningCase.EscalationStep = EscalationStep(openedAt, world.Now);
        subscription.PlanChangesBlocked = PlanChangesBlockedAt(openedAt, world.Now);
        if (nextRetry is { } next)
        {
            var chance = RecoveryChance(behavior, next, dunningCase.RetriesMade + 1);
            dunningCase.NextAttemptAt = next;
            dunningCase.NextAttemptProbability = chance;
            dunningCase.NextAttemptReason = output.WantsRows ? NextAttemptReason(behavior, next, dunningCase.RetriesMade + 1, chance) : null;
            if (_rng.Chance(0.05))
            {
                var pausedAt = _rng.Within(dunningCase.UpdatedAt, world.Now);
                _customer.DunningPaused = true;
                output.Audit(_rng.Pick(SupportAgents), SupportRole, "customer.pause_dunning", "customer", _customer.Id,
                    _rng.Pick(PauseDunningReasons), """{"dunning_paused":false}""", """{"dunning_paused":true}""", pausedAt);
            }
        }
        return null;
    }

    private void AuditManualRetry(InvoiceRow invoice, PaymentAttemptRow attempt, DateTime at)
    {
        var agent = _rng.Pick(SupportAgents);
        var reason = _rng.Pick(RetryReasons);
        if (!output.WantsRows) return;
        var declined = attempt.DeclineCode is { } code ? $",\"decline_code\":\"{code}\"" : string.Empty;
        output.Audit(agent, SupportRole, "payment.retry", "invoice", invoice.Id, reason,
            Invariant($$"""{"status":"open","attempt_count":{{attempt.AttemptNumber - 1}}}"""),
            Invariant($$"""{"attempt_number":{{attempt.AttemptNumber}},"result":"{{attempt.Status.ToSnakeCase()}}"{{declined}}}"""),
            at);
    }

    private string NextAttemptReason(string behavior, DateTime at, int retryNumber, double chance)
    {
        var when = IsPayday(at) ? "a payday" : at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? "a weekend day" : "a weekday";
        return Invariant(
            $"Statistical schedule: retry {retryNumber} of {world.Policy.EffectiveBudget} after {behavior}, {at:ddd d MMM HH:mm} UTC is {when}; estimated {chance * 100:0}% chance of recovery.");
    }

    private DateTime Recover(SubscriptionRow subscription, DunningCaseRow dunningCase, DateTime at)
    {
        dunningCase.Status = DunningStatus.Recovered;
        dunningCase.ClosedAt = at;
        dunningCase.UpdatedAt = at;
        dunningCase.EscalationStep = EscalationStep(dunningCase.OpenedAt, at);
        _card.Behavior = "ok";
        subscription.PlanChangesBlocked = false;
        subscription.Mark(at, SubscriptionStatus.Active);
        return at;
    }

    /// <summary>The policy's final action: the invoice is written off and the subscription canceled involuntarily.</summary>
    private void Exhaust(SubscriptionRow subscription, InvoiceRow invoice, DunningCaseRow dunningCase, DateTime at)
    {
        dunningCase.Status = DunningStatus.Exhausted;
        dunningCase.FinalAction = world.Policy.FinalAction.ToSnakeCase();
        dunningCase.ClosedAt = at;
        dunningCase.UpdatedAt = at;
        dunningCase.EscalationStep = world.Policy.Ladder.Count;
        invoice.AmountWrittenOff = invoice.AmountDue;
        invoice.Status = InvoiceStatus.Uncollectible;
        invoice.MarkedUncollectibleAt = at;
        output.PostWriteOff(invoice, at);
        subscription.PlanChangesBlocked = PlanChangesBlockedAt(dunningCase.OpenedAt, at);
        subscription.Cancel(at, CancellationKind.Involuntary);
    }

    /// <summary>A support agent honours a cancellation the customer asked for before the renewal: void the invoice, cancel.</summary>
    private void VoidAndCancel(SubscriptionRow subscription, InvoiceRow invoice, DunningCaseRow dunningCase, DateTime at)
    {
        var agent = _rng.Pick(SupportAgents);
        var reason = _rng.Pick(VoidReasons);
        var before = Invariant($$"""{"status":"open","amount_due":"{{Amount(invoice.AmountDue)}}"}""");
        invoice.Status = InvoiceStatus.Void;
        invoice.VoidedAt = at;
        output.PostVoid(invoice, at);
        dunningCase.Status = DunningStatus.Closed;
        dunningCase.ClosedAt = at;
        dunningCase.UpdatedAt = at;
        dunningCase.EscalationStep = EscalationStep(dunningCase.OpenedAt, at);
        output.Audit(agent, SupportRole, "invoice.void", "invoice", invoice.Id, reason, before, """{"status":"void"}""", at);
        var canceledAt = Earlier(at + _rng.Seconds(20, 180), world.Now);
        var status = subscription.Status.ToSnakeCase();
        subscription.Cancel(canceledAt, CancellationKind.Voluntary);
        output.Audit(agent, SupportRole, "subscription.cancel", "subscription", subscription.Id, reason,
            Invariant($$"""{"status":"{{status}}"}"""), """{"status":"canceled","cancellation_kind":"voluntary"}""", canceledAt);
    }
}
