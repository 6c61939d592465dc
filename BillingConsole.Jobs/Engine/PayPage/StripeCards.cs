using BillingConsole.Configuration;
using BillingConsole.Engine.Commands;
using BillingConsole.Gateways;
using BillingConsole.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Engine.PayPage;

/// <summary>
/// New and updated cards from Stripe. In Stripe mode the pay page sends the customer to a Checkout Session in setup mode,
/// and Stripe's webhook about the succeeded SetupIntent makes the saved card the customer's default through
/// <see cref="CardUpdates"/>, which charges their open dunning invoices to it; a card the network's updater replaced
/// (<c>payment_method.automatically_updated</c>) is updated in place and, when it is the default, charged the same way.
/// </summary>
public sealed class StripeCards(IServiceProvider services, CustomerCommands customers, CardUpdates cards, BillingDbContext db, IOptions<PayPageOptions> options)
{
    // Resolved when used: the adapter cannot be built without Stripe's key, which sandbox mode does not need.
    private StripeGateway StripeApi => services.GetRequiredService<StripeGateway>();

    public static readonly Actor Stripe = new("gateway:stripe", "gateway");

    /// <summary>The URL of Stripe's page where the customer of <paramref name="link"/> saves a card; they come back to the pay page.</summary>
    public async Task<string> StartAsync(PayLink link, string token, CancellationToken ct)
    {
        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == link.CustomerId).Select(c => new { c.Name, c.Email, c.Currency }).SingleAsync(ct);
        var tokens = await db.PaymentMethods.AsNoTracking().Where(p => p.CustomerId == link.CustomerId)
            .OrderByDescending(p => p.CreatedAt).Select(p => p.Token).ToListAsync(ct);
        var stripeCustomer = tokens.Select(t => StripeGateway.TryParseToken(t, out var known, out _) ? known : null).FirstOrDefault(c => c is not null);
        var page = $"{options.Value.PublicBaseUrl.TrimEnd('/')}/pay/{token}";
        return await StripeApi.StartCardSetupAsync(new StripeCardSetup(link.CustomerId, stripeCustomer, customer.Name, customer.Email, customer.Currency, page), ct);
    }

    /// <summary>
    /// What Stripe reports by <c>setup_intent.succeeded</c> or <c>checkout.session.completed</c>: the card the SetupIntent saved
    /// becomes its customer's default, and their open dunning invoices are charged to it. A card attached before is left as it
    /// is, so an event delivered again, or both events of one setup, change nothing. Null when nothing was attached.
    /// </summary>
    public async Task<CardUpdate?> CompleteAsync(string setupIntentId, CancellationToken ct)
    {
        var card = await StripeApi.SavedCardAsync(setupIntentId, ct);
        if (card is not { CustomerId: { } customerId, Token: { } token }) return null;
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct)) return null;
        if (await db.PaymentMethods.AnyAsync(p => p.Token == token, ct)) return null;
        return await cards.AttachAsync(customerId, new AttachPaymentMethod(StripeGateway.GatewayName, token, card.Brand, card.Last4, card.ExpMonth, card.ExpYear),
            Stripe, $"The customer saved a card with Stripe ({setupIntentId}).", ct);
    }

    /// <summary>
    /// Stripe's card updater replaced the card behind <paramref name="token"/>: its details are updated and, when it is the
    /// customer's default, their waiting cases move on and their open dunning invoices are charged to it. Null when no card
    /// has that token or nothing changed, so a repeated event changes nothing.
    /// </summary>
    public async Task<CardUpdate?> CardUpdatedAsync(string token, string last4, int expMonth, int expYear, CancellationToken ct)
    {
        var method = await customers.UpdateCardAsync(token, last4, expMonth, expYear, Stripe,
            "The card network replaced the card (Stripe's card updater).", ct);
        if (method is null) return null;
        return new CardUpdate(method, method.IsDefault ? await cards.ChargeOpenDunningInvoicesAsync(method.CustomerId, Stripe, ct) : []);
    }
}
