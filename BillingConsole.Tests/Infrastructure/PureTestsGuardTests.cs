using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using BillingConsole.Tests.Api;
using BillingConsole.Tests.Browser;
using BillingConsole.Tests.Persistence;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>
/// Keeps [PureTests] honest. A marked class, and every type of this test project it reaches (helpers, fixtures, base classes,
/// lambdas and async state machines), must not refer to a database or Redis client, the app host, a browser, a socket or a child
/// process: its signatures, attributes and IL are read. Production code is not followed; there the pure run itself is the
/// check, since it has no servers and no connection settings.
/// </summary>
[PureTests]
public sealed class PureTestsGuardTests
{
    private static readonly Assembly TestAssembly = typeof(PureTestsGuardTests).Assembly;

    private static readonly string[] ServerNamespaces =
    [
        "Npgsql", "StackExchange.Redis", "Microsoft.EntityFrameworkCore", "Hangfire", "Microsoft.Playwright",
        "Microsoft.AspNetCore.Mvc.Testing", "WireMock", "System.Net.Sockets",
    ];

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void Classes_marked_pure_reach_no_server_host_browser_socket_or_process()
    {
        // This class names server types as the data it looks for, and runs no server.
        var pure = TestAssembly.GetTypes()
            .Where(type => type.IsDefined(typeof(PureTestsAttribute), inherit: false) && type != typeof(PureTestsGuardTests))
            .ToList();

        Assert.NotEmpty(pure);
        Assert.Empty(pure.Select(ServerUse).OfType<string>());
    }

    [Theory]
    [InlineData(typeof(WebhookTests))]      // the shared console host, through its constructor
    [InlineData(typeof(ListWidthTests))]    // the browser
    [InlineData(typeof(MigrationTests))]    // a database, only from inside async test methods
    public void The_guard_sees_the_servers_of_tests_that_use_them(Type serverTests) =>
        Assert.NotNull(ServerUse(serverTests));

    /// <summary>How <paramref name="root"/> reaches a server type ("A -> B -> Npgsql.NpgsqlConnection"), or null when it does not.</summary>
    private static string? ServerUse(Type root)
    {
        var reachedFrom = new Dictionary<Type, Type?> { [root] = null };
        var queue = new Queue<Type>([root]);
        while (queue.TryDequeue(out var type))
        {
            foreach (var used in TypesUsedBy(type))
            {
                if (IsServer(used)) return string.Join(" -> ", Path(reachedFrom, type).Append(used.FullName));
                var owner = Outermost(used);
                if (owner.Assembly == TestAssembly && reachedFrom.TryAdd(owner, type)) queue.Enqueue(owner);
            }
        }
        return null;
    }

    private static bool IsServer(Type type) =>
        type == typeof(Process) || type.Namespace is { } ns && ServerNamespaces.Any(server => ns == server || ns.StartsWith(server + "."));

    private static IEnumerable<string?> Path(Dictionary<Type, Type?> reachedFrom, Type type)
    {
        var path = new List<string?>();
        for (Type? step = type; step is not null; step = reachedFrom[step]) path.Insert(0, step.Name);
        return path;
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type;
    }

    /// <summary>Every type named by <paramref name="type"/> and its nested types, in signatures, attributes and method bodies.</summary>
    private static IEnumerable<Type> TypesUsedBy(Type type)
    {
        var named = new List<Type?> { type.BaseType };
        named.AddRange(type.GetInterfaces());
        named.AddRange(type.GetCustomAttributesData().SelectMany(AttributeTypes));
        named.AddRange(type.GetFields(Declared).Select(field => field.FieldType));
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            named.AddRange(method.GetParameters().Select(parameter => parameter.ParameterType));
            if (method is MethodInfo info) named.Add(info.ReturnType);
            if (method.GetMethodBody() is not { } body) continue;
            named.AddRange(body.LocalVariables.Select(local => local.LocalType));
            named.AddRange(MembersCalledBy(method, body).SelectMany(TypesOf));
        }
        return named.OfType<Type>().SelectMany(Expand)
            .Concat(type.GetNestedTypes(Declared).SelectMany(TypesUsedBy));
    }

    private static IEnumerable<Type?> AttributeTypes(CustomAttributeData attribute) =>
        attribute.ConstructorArguments.Select(argument => argument.Value as Type).Prepend(attribute.AttributeType);

    private static IEnumerable<Type?> TypesOf(MemberInfo member) => member switch
    {
        Type type => [type],
        FieldInfo field => [field.DeclaringType, field.FieldType],
        MethodBase method => method.GetParameters().Select(parameter => parameter.ParameterType)
            .Concat(method is MethodInfo info ? [info.ReturnType, .. info.GetGenericArguments()] : [])
            .Prepend(method.DeclaringType),
        _ => [member.DeclaringType],
    };

    /// <summary>The type itself, or for an array, reference or generic instance the types it is made of.</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.IsGenericParameter) return [];
        if (type.HasElementType) return Expand(type.GetElementType()!);
        if (!type.IsConstructedGenericType) return [type];
        return type.GetGenericArguments().SelectMany(Expand).Prepend(type.GetGenericTypeDefinition());
    }

    /// <summary>The types, methods and fields the IL of <paramref name="method"/> refers to by token.</summary>
    private static IEnumerable<MemberInfo> MembersCalledBy(MethodBase method, MethodBody body)
    {
        var il = body.GetILAsByteArray() ?? [];
        var typeArguments = method.DeclaringType is { IsGenericType: true } owner ? owner.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var members = new List<MemberInfo>();
        for (var at = 0; at < il.Length;)
        {
            var value = il[at] == 0xFE ? unchecked((short)(0xFE00 | il[at + 1])) : il[at];
            var code = OpCodesByValue[value];
            at += code.Size;
            switch (code.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    members.Add(method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments)!);
                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + 4 * BitConverter.ToInt32(il, at);
                    break;
                default:
                    at += OperandSize(code.OperandType);
                    break;
            }
        }
        return members;
    }

    private static int OperandSize(OperandType operand) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        _ => 4,
    };
}
