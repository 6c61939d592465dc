using System.Text.Json;
using BillingConsole.Api;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using BadRequest = Google.Rpc.BadRequest;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BillingConsole.GrpcApi;

/// <summary>
/// The REST API's problems as gRPC statuses: <see cref="ApiProblems.For"/> still decides what a failure is, and its HTTP
/// status picks the code; a 400's field errors travel as google.rpc.BadRequest field violations (snake_case, as in the protos).
/// </summary>
public static class GrpcProblems
{
    public static StatusCode CodeFor(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType => StatusCode.InvalidArgument,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status409Conflict => StatusCode.Aborted,
        StatusCodes.Status422UnprocessableEntity => StatusCode.FailedPrecondition,
        StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    /// <summary>The exception a problem result is thrown as; null when the result is not a problem.</summary>
    public static RpcException? From(IResult result) => result switch
    {
        ProblemHttpResult problem => From(problem.StatusCode, problem.ProblemDetails),
        ValidationProblem validation => From(validation.StatusCode, validation.ProblemDetails),
        _ => null,
    };

    private static RpcException From(int httpStatus, ProblemDetails problem)
    {
        var status = new Google.Rpc.Status { Code = (int)CodeFor(httpStatus), Message = problem.Detail ?? problem.Title ?? string.Empty };
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } invalid)
        {
            status.Details.Add(Any.Pack(new BadRequest
            {
                FieldViolations =
                {
                    invalid.Errors.SelectMany(e => e.Value.Select(message =>
                        new BadRequest.Types.FieldViolation { Field = SnakeCase(e.Key), Description = message })),
                },
            }));
        }
        return status.ToRpcException();
    }

    /// <summary>"address.postalCode" → "address.postal_code": the names the protos use.</summary>
    private static string SnakeCase(string path) =>
        string.Join('.', path.Split('.').Select(segment => JsonNamingPolicy.SnakeCaseLower.ConvertName(segment)));
}

/// <summary>Turns a failure of a gRPC call into the status the REST API's problem for it maps to; anything else is INTERNAL and logged.</summary>
public sealed class GrpcProblemInterceptor(ILogger<GrpcProblemInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            if (ApiProblems.For(e) is { } problem && GrpcProblems.From(problem) is { } mapped) throw mapped;
            logger.LogError(e, "Unhandled failure on gRPC {Method}", context.Method);
            throw new RpcException(new Grpc.Core.Status(StatusCode.Internal, ErrorsAsProblems.UnexpectedMessage));
        }
    }
}
