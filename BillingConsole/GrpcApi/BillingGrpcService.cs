using System.Text.Json;
using BillingConsole.Api;
using BillingConsole.Engine.Commands;
using BillingConsole.GrpcApi.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace BillingConsole.GrpcApi;

/// <summary>
/// The upstream API over gRPC: the same commands as /api/v1, under the same operation names, so an idempotency key behaves
/// the same whichever way a request comes (metadata "idempotency-key" is the Idempotency-Key header of HTTP/2).
/// </summary>
public sealed class BillingGrpcService(CustomerCommands customers, CustomerInvoices invoices, SubscriptionCommands subscriptions, IOptions<JsonOptions> json) : V1.Billing.BillingBase
{
    public override async Task<V1.Customer> CreateCustomer(CreateCustomerRequest request, ServerCallContext context)
    {
        var command = GrpcViews.ToCommand(request);
        return GrpcViews.From(await RunAsync<CustomerView>(context, "customers.create", command, StatusCodes.Status201Created,
            (actor, reason, ct) => customers.CreateAsync(command, actor, reason, ct)));
    }

    public override async Task<V1.Customer> UpdateCustomer(UpdateCustomerRequest request, ServerCallContext context)
    {
        var id = GrpcViews.Id(request.CustomerId, "customer_id");
        var body = GrpcViews.ToCommand(request);
        return GrpcViews.From(await RunAsync<CustomerView>(context, "customers.update", new { id, body }, StatusCodes.Status200OK,
            (actor, reason, ct) => customers.UpdateAsync(id, body, actor, reason, ct)));
    }

    public override async Task<V1.InvoicePage> ListCustomerInvoices(ListCustomerInvoicesRequest request, ServerCallContext context) =>
        GrpcViews.From(await invoices.PageAsync(GrpcViews.Id(request.CustomerId, "customer_id"), request.HasLimit ? request.Limit : 20,
            request.HasStartingAfter ? GrpcViews.OptionalId(request.StartingAfter, "starting_after") : null, context.CancellationToken));

    public override async Task<V1.SubscriptionChange> CreateSubscription(CreateSubscriptionRequest request, ServerCallContext context)
    {
        var command = GrpcViews.ToCommand(request);
        return GrpcViews.From(await RunAsync<SubscriptionChangeView>(context, "subscriptions.create", command, StatusCodes.Status201Created,
            (actor, reason, ct) => subscriptions.CreateAsync(command, actor, reason, ct)));
    }

    public override async Task<PlanChange> ChangePlan(ChangePlanRequest request, ServerCallContext context)
    {
        var id = GrpcViews.Id(request.SubscriptionId, "subscription_id");
        var body = GrpcViews.ToCommand(request);
        return GrpcViews.From(await RunAsync<PlanChangeView>(context, "subscriptions.change_plan", new { id, body }, StatusCodes.Status200OK,
            (actor, reason, ct) => subscriptions.ChangePlanAsync(id, body, actor, reason, ct)));
    }

    public override async Task<PlanChange> PreviewPlanChange(ChangePlanRequest request, ServerCallContext context) =>
        GrpcViews.From(await subscriptions.PreviewChangeAsync(GrpcViews.Id(request.SubscriptionId, "subscription_id"), GrpcViews.ToCommand(request),
            context.CancellationToken));

    public override async Task<V1.Subscription> CancelSubscription(CancelSubscriptionRequest request, ServerCallContext context)
    {
        var id = GrpcViews.Id(request.SubscriptionId, "subscription_id");
        var body = new CancelSubscription(request.HasWhen ? request.When : null);
        return GrpcViews.From(await RunAsync<SubscriptionView>(context, "subscriptions.cancel", new { id, body }, StatusCodes.Status200OK,
            (actor, reason, ct) => subscriptions.CancelAsync(id, body, actor, reason, ct)));
    }

    public override async Task<V1.Subscription> PauseSubscription(SubscriptionRequest request, ServerCallContext context)
    {
        var id = GrpcViews.Id(request.SubscriptionId, "subscription_id");
        return GrpcViews.From(await RunAsync<SubscriptionView>(context, "subscriptions.pause", new { id }, StatusCodes.Status200OK,
            (actor, reason, ct) => subscriptions.PauseAsync(id, actor, reason, ct)));
    }

    public override async Task<V1.SubscriptionChange> ResumeSubscription(SubscriptionRequest request, ServerCallContext context)
    {
        var id = GrpcViews.Id(request.SubscriptionId, "subscription_id");
        return GrpcViews.From(await RunAsync<SubscriptionChangeView>(context, "subscriptions.resume", new { id }, StatusCodes.Status200OK,
            (actor, reason, ct) => subscriptions.ResumeAsync(id, actor, reason, ct)));
    }

    public override async Task<V1.Invoice> GetUpcomingInvoice(SubscriptionRequest request, ServerCallContext context) =>
        await subscriptions.UpcomingInvoiceAsync(GrpcViews.Id(request.SubscriptionId, "subscription_id"), context.CancellationToken) is { } invoice
            ? GrpcViews.From(invoice)
            : throw new RpcException(new Status(StatusCode.NotFound,
                "This subscription has no upcoming invoice: it is paused, canceled, unpaid or cancels at the period end."));

    /// <summary>Runs a change through the REST API's idempotent path and reads its result back as the view it stored.</summary>
    private async Task<T> RunAsync<T>(ServerCallContext context, string operation, object request, int successStatus,
        Func<Actor, string, CancellationToken, Task<T>> command)
    {
        var result = await IdempotentCommand.RunAsync(context.GetHttpContext(), operation, request, successStatus, command);
        if (GrpcProblems.From(result) is { } problem) throw problem;
        var body = ((ContentHttpResult)result).ResponseContent!;
        return JsonSerializer.Deserialize<T>(body, json.Value.SerializerOptions)!;
    }
}
