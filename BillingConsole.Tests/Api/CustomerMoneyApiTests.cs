using System.Net;
using BillingConsole.Api;
using BillingConsole.Configuration;
using BillingConsole.Domain.Ledger;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Payments;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Balance adjustments and one-off invoices over the upstream API, on the shared host: one effect per idempotency key, the
/// ledger balanced after each, and bad input refused with a sentence and nothing written.
/// </summary>
public sealed class CustomerMoneyApiTests(ConsoleAppHost host) : ApiTestBase(host)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// What the operations could write for this customer: invoices, ledger entries, audit entries (on the customer or its
    /// invoices), and the credit balance.
    /// </summary>
    private Task<(int Invoices, int LedgerEntries, int Audit, decimal CreditBalance)> StateAsync(Guid customerId) =>
        Api.WithDbAsync(async db =>
        {
            var entities = await db.Invoices.Where(i => i.CustomerId == customerId).Select(i => i.Id.ToString()).ToListAsync(Ct);
            entities.Add(customerId.ToString());
            return (
                entities.Count - 1,
                await db.LedgerEntries.CountAsync(e => e.CustomerId == customerId, Ct),
                await db.AuditLog.CountAsync(a => entities.Contains(a.EntityId), Ct),
                (await db.Customers.SingleAsync(c => c.Id == customerId, Ct)).CreditBalance.Amount);
        });

    /// <summary>Every transaction of the customer balances, and the customer-credit account holds what the customer row says.</summary>
    private async Task AssertLedgerBalancedAsync(Guid customerId)
    {
        var (entries, creditBalance) = await Api.WithDbAsync(async db => (
            await db.LedgerEntries.Where(e => e.CustomerId == customerId).ToListAsync(Ct),
            (await db.Customers.SingleAsync(c => c.Id == customerId, Ct)).CreditBalance.Amount));
        Assert.All(entries.GroupBy(e => e.TransactionId), t => Assert.Equal(t.Sum(e => e.Debit), t.Sum(e => e.Credit)));
        Assert.Equal(creditBalance, entries.Where(e => e.Account == LedgerAccount.CustomerCredit).Sum(e => e.Credit - e.Debit));
    }

    [Fact]
    public async Task A_balance_adjustment_moves_credit_once_per_key_and_a_debit_beyond_the_credit_is_refused()
    {
        var customer = await Api.CreateCustomerAsync();
        var path = $"/api/v1/customers/{customer.Id}/balance-adjustments";
        var key = Guid.NewGuid();

        var credited = await Api.ReadAsync<BalanceAdjustmentView>(await Api.PostAsync(path, new { direction = "credit", amount = 10m }, key), HttpStatusCode.Created);
        var replay = await Api.PostAsync(path, new { direction = "credit", amount = 10m }, key);
        var debited = await Api.ReadAsync<BalanceAdjustmentView>(await Api.PostAsync(path, new { direction = "debit", amount = 4m }, Guid.NewGuid()), HttpStatusCode.Created);

        Assert.Equal(("credit", 10m, 10m), (credited.Direction, credited.Amount, credited.CreditBalance));
        Assert.Equal("true", replay.Headers.GetValues(IdempotentCommand.ReplayedHeader).Single());
        Assert.Equal(credited.Id, (await Api.ReadAsync<BalanceAdjustmentView>(replay, HttpStatusCode.Created)).Id);
        Assert.Equal(("debit", 6m), (debited.Direction, debited.CreditBalance));
        await AssertLedgerBalancedAsync(customer.Id);
        var before = await StateAsync(customer.Id);
        Assert.Equal(6m, before.CreditBalance);

        var tooMuch = await Api.PostAsync(path, new { direction = "debit", amount = 7m }, Guid.NewGuid());
        var otherCurrency = await Api.PostAsync(path, new { direction = "credit", amount = 1m, currency = "EUR" }, Guid.NewGuid());
        var sideways = await Api.PostAsync(path, new { direction = "sideways", amount = 0m }, Guid.NewGuid());

        Assert.Equal("A debit of $7.00 is more than the $6.00 of credit the customer holds; to charge more, create a one-off invoice.",
            (await Problem.ReadAsync(tooMuch, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal("The customer is billed in USD, not EUR.", (await Problem.ReadAsync(otherCurrency, HttpStatusCode.UnprocessableEntity)).Detail);
        var invalid = await Problem.ReadAsync(sideways, HttpStatusCode.BadRequest);
        Assert.Equal("The direction is credit or debit.", Assert.Single(invalid.Errors!["direction"]));
        Assert.Equal("The amount must be more than zero.", Assert.Single(invalid.Errors!["amount"]));
        Assert.Equal(before, await StateAsync(customer.Id));
    }

    [Fact]
    public async Task A_one_off_invoice_sent_with_terms_is_numbered_taxed_and_awaits_the_customer_once_per_key()
    {
        var customer = await Api.CreateCustomerAsync();
        var path = $"/api/v1/customers/{customer.Id}/invoices";
        var body = new
        {
            lines = new[] { new { description = "Setup fee", quantity = 1, unitPrice = 150m }, new { description = "Training hours", quantity = 3, unitPrice = 40m } },
            collection = "send_invoice",
            daysUntilDue = 14,
        };
        var key = Guid.NewGuid();

        var invoice = await Api.ReadAsync<InvoiceView>(await Api.PostAsync(path, body, key), HttpStatusCode.Created);
        var replay = await Api.PostAsync(path, body, key);

        var taxRate = Host.Services.GetRequiredService<IOptionsMonitor<BillingOptions>>().CurrentValue.TaxRate;
        Assert.Equal(("open", "one_off", 270m), (invoice.Status, invoice.Kind, invoice.Subtotal));
        Assert.Equal(Math.Round(270m * taxRate, 2, MidpointRounding.AwayFromZero), invoice.Tax);
        Assert.Equal(invoice.Total, invoice.AmountDue);
        Assert.Equal(TimeSpan.FromDays(14), invoice.DueAt - invoice.IssuedAt);
        Assert.Equal(["Setup fee", "Training hours"], invoice.Lines.Select(l => l.Description));
        Assert.Equal(invoice.Id, (await Api.ReadAsync<InvoiceView>(replay, HttpStatusCode.Created)).Id);
        await using (var scope = Host.Services.CreateAsyncScope())
        {
            var detail = await scope.ServiceProvider.GetRequiredService<InvoiceDetails>().FindAsync(invoice.Id!.Value, Ct);
            // The customer is charged automatically, the invoice was sent: it is never charged.
            Assert.Equal(CollectionStage.AwaitingCustomer, detail!.Collection!.Stage);
            Assert.Equal(invoice.Number, detail.Number);
        }
        var listed = await Api.ReadAsync<InvoicePage>(await Api.SendAsync(HttpMethod.Get, $"/api/v1/customers/{customer.Id}/invoices"), HttpStatusCode.OK);
        Assert.Equal(invoice.Id, Assert.Single(listed.Data).Id);
        await AssertLedgerBalancedAsync(customer.Id);
        Assert.Equal(invoice.Total, await Api.WithDbAsync(db => db.LedgerEntries
            .Where(e => e.InvoiceId == invoice.Id && e.Account == LedgerAccount.Receivable).SumAsync(e => e.Debit - e.Credit, Ct)));
    }

    [Fact]
    public async Task A_one_off_invoice_charged_now_is_paid_by_the_card_and_bad_lines_are_refused_with_a_sentence()
    {
        var failed = await FailedInvoices.CreateAsync(Host.Services);
        var path = $"/api/v1/customers/{failed.CustomerId}/invoices";
        var charged = await Api.ReadAsync<InvoiceView>(await Api.PostAsync(path,
            new { lines = new[] { new { description = "Replacement device", quantity = 2, unitPrice = 25m } }, collection = "charge_now" }, Guid.NewGuid()),
            HttpStatusCode.Created);

        Assert.Equal(50m, charged.Subtotal);
        Assert.Equal("paid", await Api.WithDbAsync(db => db.Database
            .SqlQuery<string>($"select status as \"Value\" from invoices where id = {charged.Id}").SingleAsync(Ct)));
        await AssertLedgerBalancedAsync(failed.CustomerId);
        var before = await StateAsync(failed.CustomerId);

        var empty = await Api.PostAsync(path, new { lines = Array.Empty<object>(), collection = "charge_now" }, Guid.NewGuid());
        var negative = await Api.PostAsync(path, new { lines = new[] { new { description = "Hours", quantity = -1, unitPrice = 10m } }, collection = "charge_now" }, Guid.NewGuid());
        var zero = await Api.PostAsync(path, new { lines = new[] { new { description = "Free item", quantity = 1, unitPrice = 0m } }, collection = "charge_now" }, Guid.NewGuid());
        var euros = await Api.PostAsync(path, new { lines = new[] { new { description = "Hours", quantity = 1, unitPrice = 10m } }, collection = "charge_now", currency = "EUR" },
            Guid.NewGuid());
        var noTerms = await Api.PostAsync(path, new { lines = new[] { new { description = "Hours", quantity = 1, unitPrice = 10m } }, collection = "send_invoice" }, Guid.NewGuid());

        Assert.Equal("An invoice needs at least one line.", Assert.Single((await Problem.ReadAsync(empty, HttpStatusCode.BadRequest)).Errors!["lines"]));
        Assert.Equal("The quantity is between 1 and 10,000.",
            Assert.Single((await Problem.ReadAsync(negative, HttpStatusCode.BadRequest)).Errors!["lines[0].quantity"]));
        Assert.Equal("The invoice's total is zero: give at least one line a price.", (await Problem.ReadAsync(zero, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal("The customer is billed in USD, not EUR.", (await Problem.ReadAsync(euros, HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal("Sending an invoice needs the days until it is due.",
            Assert.Single((await Problem.ReadAsync(noTerms, HttpStatusCode.BadRequest)).Errors!["daysUntilDue"]));
        Assert.Equal(before, await StateAsync(failed.CustomerId));
    }
}
