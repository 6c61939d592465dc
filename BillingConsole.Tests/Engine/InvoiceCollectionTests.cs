using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Invoicing;
using BillingConsole.Engine.Payments;

namespace BillingConsole.Tests.Engine;

/// <summary>The console's sentence on how an invoice is being collected, for every state an invoice can be in.</summary>
public sealed class InvoiceCollectionTests
{
    private static readonly DateTimeOffset Issued = new(2027, 3, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Delay = TimeSpan.FromMinutes(60);

    private static CollectionFacts Open(CollectionMethod method = CollectionMethod.ChargeAutomatically, bool hasCard = true, int attempts = 0,
        decimal due = 20m) => new(InvoiceStatus.Open, due, attempts, Issued, Issued.AddDays(14), null, method, hasCard);

    [Fact]
    public void An_open_charged_invoice_is_charged_once_the_delay_has_passed()
    {
        var before = InvoiceCollection.Of(Open(), Delay, Issued.AddMinutes(59));
        var after = InvoiceCollection.Of(Open(), Delay, Issued.AddMinutes(60));

        Assert.Equal(CollectionStage.ChargeScheduled, before.Stage);
        Assert.Equal("Charged automatically after 2027-03-15 11:00 UTC.", before.Sentence);
        Assert.Equal(CollectionStage.ChargeDue, after.Stage);
        Assert.StartsWith("Due for its automatic charge since 2027-03-15 11:00 UTC", after.Sentence);
    }

    [Fact]
    public void A_sent_invoice_awaits_the_customer_until_its_due_date_then_is_overdue_and_is_never_charged()
    {
        var facts = Open(CollectionMethod.SendInvoice);

        var waiting = InvoiceCollection.Of(facts, Delay, Issued.AddDays(3));
        var overdue = InvoiceCollection.Of(facts, Delay, Issued.AddDays(15));

        Assert.Equal(CollectionStage.AwaitingCustomer, waiting.Stage);
        Assert.Equal("Awaiting payment by the customer until 2027-03-29 (send invoice); never charged automatically.", waiting.Sentence);
        Assert.Equal(CollectionStage.Overdue, overdue.Stage);
        Assert.StartsWith("Overdue since 2027-03-29", overdue.Sentence);
    }

    [Fact]
    public void Without_a_card_the_console_says_so_before_the_charge_is_made()
    {
        var collection = InvoiceCollection.Of(Open(hasCard: false), Delay, Issued.AddMinutes(5));

        Assert.Equal(CollectionStage.NoPaymentMethod, collection.Stage);
        Assert.StartsWith("No payment method on file", collection.Sentence);
    }

    [Theory]
    [InlineData(CollectionMethod.ChargeAutomatically)]
    [InlineData(CollectionMethod.SendInvoice)]
    public void An_invoice_tried_before_is_left_to_dunning_whatever_its_method(CollectionMethod method)
    {
        var collection = InvoiceCollection.Of(Open(method, attempts: 2), Delay, Issued.AddDays(1));

        Assert.Equal(CollectionStage.Attempted, collection.Stage);
        Assert.StartsWith("Charged 2 times without success so far", collection.Sentence);
    }

    [Theory]
    [InlineData(InvoiceStatus.Draft, CollectionStage.NotIssued)]
    [InlineData(InvoiceStatus.Paid, CollectionStage.Paid)]
    [InlineData(InvoiceStatus.Void, CollectionStage.Void)]
    [InlineData(InvoiceStatus.Uncollectible, CollectionStage.WrittenOff)]
    public void A_closed_or_draft_invoice_is_not_collected(InvoiceStatus status, CollectionStage stage)
    {
        var facts = Open() with { Status = status, AmountDue = 0m, PaidAt = status == InvoiceStatus.Paid ? Issued.AddHours(1) : null };

        var collection = InvoiceCollection.Of(facts, Delay, Issued.AddDays(1));

        Assert.Equal(stage, collection.Stage);
        if (status == InvoiceStatus.Paid) Assert.Equal("Paid on 2027-03-15 11:00 UTC.", collection.Sentence);
    }

    [Fact]
    public void An_open_invoice_with_nothing_due_waits_for_nothing()
    {
        Assert.Equal(CollectionStage.NothingDue, InvoiceCollection.Of(Open(due: 0m), Delay, Issued).Stage);
    }

    /// <summary>Whatever the state, the console has a sentence to show: an invoice never waits without a reason.</summary>
    [Fact]
    public void Every_state_has_a_sentence()
    {
        foreach (var status in Enum.GetValues<InvoiceStatus>())
        foreach (var method in Enum.GetValues<CollectionMethod>())
        foreach (var hasCard in new[] { true, false })
        foreach (var attempts in new[] { 0, 1 })
        foreach (var minutes in new[] { 0, 61, 60 * 24 * 30 })
        {
            var facts = new CollectionFacts(status, status == InvoiceStatus.Open ? 20m : 0m, attempts, Issued, Issued.AddDays(14), null, method, hasCard);
            Assert.False(string.IsNullOrWhiteSpace(InvoiceCollection.Of(facts, Delay, Issued.AddMinutes(minutes)).Sentence));
        }
    }
}
