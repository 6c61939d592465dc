using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Domain.Payments;
using BillingConsole.Engine.Payments;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BillingConsole.Engine.PayPage;

/// <summary>
/// What the customer's pay page (<c>/pay/{token}</c>) reads and does. Every call reads the token first: a forged, altered,
/// expired or spent one, or one naming no customer, is refused before anything else is read or written.
/// </summary>
public sealed class CustomerPayPage(BillingDbContext db, PayLinks links, CardUpdates cards, StripeCards stripeCards, PaymentProcessor payments,
    SandboxGateway sandbox, IPaymentGateway gateway, IServiceProvider services)
{
    public async Task<PayPageOpening> OpenAsync(string token, CancellationToken ct)
    {
        var reading = links.Read(token);
        if (reading.Link is not { } link)
            return PayPageOpening.Refused(reading.Refusal == PayLinkRefusal.Expired ? PayPageRefusal.Expired : PayPageRefusal.Invalid);
        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == link.CustomerId)
            .Select(c => new { c.Name, c.Currency }).SingleOrDefaultAsync(ct);
        if (customer is null) return PayPageOpening.Refused(PayPageRefusal.Invalid);
        var card = await db.PaymentMethods.AsNoTracking().Where(p => p.CustomerId == link.CustomerId && p.IsDefault && p.DetachedAt == null)
            .Select(p => new { p.Id, p.Brand, p.Last4 }).FirstOrDefaultAsync(ct);
        if (link.IsSpent(card?.Id)) return PayPageOpening.Refused(PayPageRefusal.Spent);

        var invoices = await db.Invoices.AsNoTracking()
            .Where(i => i.CustomerId == link.CustomerId && i.Status == InvoiceStatus.Open)
            .OrderBy(i => i.DueAt).ThenBy(i => i.Number)
            .ToListAsync(ct);
        var awaitingAuthentication = await AwaitingAuthentication(link.CustomerId).Select(c => c.InvoiceId).ToListAsync(ct);
        var open = invoices.Where(i => i.AmountDue.IsPositive)
            .Select(i => new PayPageInvoice(i.Id, i.Number ?? "(draft)", i.DueAt, i.AmountDue, awaitingAuthentication.Contains(i.Id)))
            .ToList();
        var due = open.Aggregate(Money.Zero(customer.Currency), (sum, i) => i.AmountDue.Currency == sum.Currency ? sum + i.AmountDue : sum);
        return new PayPageOpening(new PayPageView(link, customer.Name, card is null ? null : $"{card.Brand} ending {card.Last4}", gateway.Name, open, due), null);
    }

    /// <summary>
    /// In sandbox mode: attaches the sandbox card the customer typed and charges the open dunning invoices to it. Refused
    /// (changing nothing) when the link is not good, and in Stripe mode, where cards are taken by Stripe's own page.
    /// </summary>
    public async Task<PayPageSubmission> AttachSandboxCardAsync(string token, string? cardToken, CancellationToken ct)
    {
        var opening = await OpenAsync(token, ct);
        if (opening.Page is not { } page) return new PayPageSubmission(opening.Refusal, null, null);
        CardUpdate update;
        try
        {
            update = await cards.AttachThroughLinkAsync(page.Link, cards.SandboxCard(cardToken), ct);
        }
        catch (PayLinkSpentException)
        {
            return new PayPageSubmission(PayPageRefusal.Spent, null, null);
        }
        // The link is spent by the new card; one for that card lets the customer try another if this one was declined.
        return new PayPageSubmission(null, update, links.TokenFor(page.Link.CustomerId, update.Method.Id));
    }

    /// <summary>In Stripe mode: the URL of Stripe's page where the customer saves a new card, unless the link is refused.</summary>
    public async Task<PayPageRedirect> StartStripeSetupAsync(string token, CancellationToken ct)
    {
        var opening = await OpenAsync(token, ct);
        if (opening.Page is not { } page) return new PayPageRedirect(opening.Refusal, null);
        if (page.Gateway != StripeGateway.GatewayName)
            throw new DomainRuleException($"Cards are saved with Stripe only in Stripe mode; charges now go through {page.Gateway}.");
        return new PayPageRedirect(null, await stripeCards.StartAsync(page.Link, token, ct));
    }

    /// <summary>
    /// In Stripe mode: the client secret of each PaymentIntent of the customer still waiting for their authentication
    /// (<c>requires_action</c>), read from Stripe, with which Stripe.js on the page confirms it. Empty in sandbox mode.
    /// </summary>
    public async Task<IReadOnlyList<string>> StripeClientSecretsAsync(PayPageView page, CancellationToken ct)
    {
        if (page.Gateway != StripeGateway.GatewayName) return [];
        var secrets = new List<string>();
        foreach (var held in await HeldPaymentsAsync(page.Link.CustomerId, ct))
        {
            if (held.Gateway != StripeGateway.GatewayName) continue;
            var intent = await StripeApi.PaymentIntentAsync(held.Reference, ct);
            if (intent.Status == "requires_action") secrets.Add(intent.ClientSecret);
        }
        return secrets;
    }

    /// <summary>
    /// The customer confirmed the payments their bank asked them to authenticate. In sandbox mode each is completed at the
    /// sandbox gateway here; with Stripe the customer confirmed it with Stripe.js and Stripe is asked what came of it. A
    /// success is recorded as the gateway's report of it, through the same path as its webhook
    /// (<see cref="PaymentProcessor.RecordReportedOutcomeAsync"/>), which pays the invoice and recovers its case: whichever of
    /// the two comes first settles the attempt, and the other changes nothing. A payment not confirmed is left waiting. The
    /// link stays usable: the card did not change.
    /// </summary>
    public async Task<PayPageConfirmation> ConfirmPaymentsAsync(string token, CancellationToken ct)
    {
        var opening = await OpenAsync(token, ct);
        if (opening.Page is not { } page) return new PayPageConfirmation(opening.Refusal, []);
        var results = new List<ChargeResult>();
        foreach (var held in await HeldPaymentsAsync(page.Link.CustomerId, ct))
        {
            var confirmed = held.Gateway switch
            {
                SandboxGateway.GatewayName when page.Gateway == SandboxGateway.GatewayName => sandbox.ConfirmAuthentication(held.Reference),
                StripeGateway.GatewayName => await StripeConfirmedAsync(held.Reference, ct),
                _ => null,
            };
            if (confirmed is null) continue;
            db.ChangeTracker.Clear();
            if (await db.InTransactionAsync(() => payments.RecordReportedOutcomeAsync(null, held.Reference, confirmed, ct), ct) is { } result)
                results.Add(result);
        }
        return new PayPageConfirmation(null, results);
    }

    // Resolved when used: the adapter cannot be built without Stripe's key, which sandbox mode does not need.
    private StripeGateway StripeApi => services.GetRequiredService<StripeGateway>();

    private async Task<GatewayChargeResult?> StripeConfirmedAsync(string reference, CancellationToken ct) =>
        (await StripeApi.PaymentIntentAsync(reference, ct)).Status == "succeeded" ? GatewayChargeResult.Succeeded(reference, TimeSpan.Zero) : null;

    /// <summary>The latest charge of each case waiting for the customer's authentication, by the gateway that holds it.</summary>
    private async Task<IReadOnlyList<HeldPayment>> HeldPaymentsAsync(Guid customerId, CancellationToken ct)
    {
        var held = await AwaitingAuthentication(customerId)
            .Select(c => db.PaymentAttempts.Where(a => a.InvoiceId == c.InvoiceId && a.DeclineCode == DeclineCodes.AuthenticationRequired)
                .OrderByDescending(a => a.AttemptNumber).Select(a => new { a.Gateway, a.GatewayReference }).FirstOrDefault())
            .ToListAsync(ct);
        return [.. held.Where(a => a?.GatewayReference is not null).Select(a => new HeldPayment(a!.Gateway, a.GatewayReference!))];
    }

    private sealed record HeldPayment(string Gateway, string Reference);

    private IQueryable<DunningCase> AwaitingAuthentication(Guid customerId) =>
        db.DunningCases.AsNoTracking().Where(c => c.CustomerId == customerId && c.Status == DunningStatus.AwaitingPaymentMethod
                                                  && c.LastDeclineCode == DeclineCodes.AuthenticationRequired);
}

public enum PayPageRefusal { Invalid, Expired, Spent }

/// <param name="AwaitingAuthentication">The bank asked the customer to authenticate its payment, which they confirm on the page.</param>
public sealed record PayPageInvoice(Guid Id, string Number, DateTimeOffset? DueAt, Money AmountDue, bool AwaitingAuthentication);

/// <param name="Card">The customer's current card in words ("visa ending 4242"); null when they have none.</param>
/// <param name="Gateway">The gateway new cards are taken for: "sandbox" or "stripe".</param>
public sealed record PayPageView(PayLink Link, string CustomerName, string? Card, string Gateway, IReadOnlyList<PayPageInvoice> Invoices, Money AmountDue);

public sealed record PayPageOpening(PayPageView? Page, PayPageRefusal? Refusal)
{
    public static PayPageOpening Refused(PayPageRefusal refusal) => new(null, refusal);
}

public sealed record PayPageRedirect(PayPageRefusal? Refusal, string? Url);

public sealed record PayPageConfirmation(PayPageRefusal? Refusal, IReadOnlyList<ChargeResult> Payments);

/// <param name="NextToken">A link for the card just attached, for trying another when it was declined.</param>
public sealed record PayPageSubmission(PayPageRefusal? Refusal, CardUpdate? Update, string? NextToken);
