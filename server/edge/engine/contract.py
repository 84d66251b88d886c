"""Every library internal the engine overrides, mirrors, subclasses or reads, as data: its source digest.

Each key is ``module:qualified.name`` in the pinned library (``LIBRARIES``); each value is the
sha256 of ``inspect.getsource`` of it as we read it. ``CONTRACT.md`` says, for the same
symbols, why we touch each and which test exercises it; ``tests/edge/engine/test_contract.py``
fails when a digest differs (a library upgrade changed code we rely on) or when the two lists
differ. After an upgrade: re-read each changed symbol, check our override or mirror still
matches it, run the tests ``CONTRACT.md`` names, then update the digest here.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect

LIBRARIES = {
    "python-socketio": "5.18.1",
    "python-engineio": "4.15.1",
    "uvicorn": "0.54.0",
    "websockets": "17.4",
}
"""The versions the digests were taken from (pyproject.toml pins each below its next minor)."""

DIGESTS: dict[str, str] = {
    "socketio.async_server:AsyncServer._send_packet": (
        "a00022b42c1c29e908fd601c32aa1854aeaf2f131b3acc12461f6030e1ab9e9b"
    ),
    "socketio.async_server:AsyncServer._handle_eio_connect": (
        "76704886d944a7e648d24c37acb921c9866a58a6c1086f2cd9917ec0386e3517"
    ),
    "socketio.async_server:AsyncServer._handle_connect": (
        "c97c480cf777de36bd6348c6335ac61b324e6ed16372660100d10223faf79a74"
    ),
    "socketio.async_server:AsyncServer._handle_eio_disconnect": (
        "9344593148b66fd9b4e7614e7a1427f641c74c8cbf1d85263c0ca70d8bfeace5"
    ),
    "socketio.async_server:AsyncServer._handle_eio_message": (
        "bef50fc0e1635921c922995dba721d05d1c5ccc95d6a6b7647a1db75c4e6032e"
    ),
    "socketio.async_server:AsyncServer._handle_event": (
        "65178105ef8b593d1ebb63610cbabab0c29654cee50fd669ba0a66590f2e1f54"
    ),
    "engineio.async_server:AsyncServer.send_packet": (
        "c54317440865030d979f95bfb1c98e8663057abaa9c004f1aecae4dd22783841"
    ),
    "socketio.async_server:AsyncServer._handle_event_internal": (
        "472e8b723a12d507ce3ee3eb8e1643cd326bdd9cc669392e6a636ec7aafdb366"
    ),
    "engineio.async_server:AsyncServer._trigger_event": (
        "4a09b6e47eb665325458df5d59b61d13547449eedb0ef25ce0b634005dae633b"
    ),
    "socketio.async_server:AsyncServer._handle_ack": (
        "b7521c6c3097255159595c9dce09073780872606dffbbf8b8e71768982d8846c"
    ),
    "socketio.async_server:AsyncServer._trigger_event": (
        "01ba90cfa09ba43e73738d2faebbaa179cc5fe5be5bf1eb3acf5fc60fa498d9f"
    ),
    "socketio.async_server:AsyncServer._engineio_server_class": (
        "199c42bf149247e0325bd5fb6c8bcc6c3703c5576704530fa92b383e0f777dd4"
    ),
    "socketio.base_server:BaseServer.__init__": (
        "6b998e091b34a5630d603af2af88d726877fe6a33a77f1772dec825353f42541"
    ),
    "socketio.async_manager:AsyncManager.emit": (
        "01ccd5b82b4f955e4f2e4d07b5fbf09cacef868e9f61bc2abe56d92118a5f3ac"
    ),
    "socketio.base_manager:BaseManager.__init__": (
        "bfee992d912fe9a4c1ba65094bb011c65a7721abd345a60ff1cc99df127c5a94"
    ),
    "socketio.base_manager:BaseManager.set_server": (
        "6ca0a0ef7fa21dc6b01b0ffc7b058169185944e87465689c8955eb7087350610"
    ),
    "socketio.base_manager:BaseManager.basic_enter_room": (
        "3f509586d2d7f47ec92cc5113a80f5302ca1d82fb3689ee530edd3aa9ad6a1a3"
    ),
    "socketio.base_manager:BaseManager.basic_leave_room": (
        "e27f3eea06d1c6a6ea295e99f62477330af4779e1f1853753e94f309ef0e74f2"
    ),
    "socketio.base_manager:BaseManager.basic_disconnect": (
        "2933b50bc4b2ea7b4367a84e05c2e22c52fed98b00afc3b88d06d61ab9fb9aa1"
    ),
    "socketio.base_manager:BaseManager.get_rooms": (
        "56a1017f85af9f91e2a8226080d10f9be225b6815f649c014b9599df6378c2eb"
    ),
    "socketio.base_manager:BaseManager.pre_connect": (
        "bfdba4c0c8f1bd8ac98edee1b3aece8c820a0a9d0528776c36db5cea1724d01a"
    ),
    "socketio.base_manager:BaseManager.connect": (
        "a0214ac7cb24346cbfeec7e87f4f1b7b647622312811345dd093480be4eb330b"
    ),
    "socketio.base_manager:BaseManager.is_pre_connected": (
        "40a897c4ab2ccc5daa90d1858ef7d500ac68fb9836c121e53f61b3a98239a517"
    ),
    "socketio.base_manager:BaseManager.is_connected": (
        "d37721466718b4f48d4a73edb545b660bd4c253027009eb68663d3564cce2341"
    ),
    "socketio.base_manager:BaseManager.pre_disconnect": (
        "18a8d01ed87a96828b48c432aed6c0bbbe8baf883647299ad5c061c8c2552723"
    ),
    "socketio.admin:EventBuffer": ("8f1ec7c87e045d6c088bce9a5d81245322edae009dac3402243d5bf8f584f7c3"),
    "engineio.base_server:BaseServer.__init__": (
        "a06b17502fbd9646e3f29ec85f1e53dbbcdc9ceecce6c2969eb83e4ef1726ee2"
    ),
    "engineio.base_server:BaseServer.on": (
        "7b5457b52dc7fd229bbf45bde34778c30aa8640635cdf0e0b3d4f8c24a7bab5e"
    ),
    "engineio.base_server:BaseServer._ok": (
        "b8f717402eac2b0d081f6415b588d6adf3a8e35a7ef36c2f952299a368d55f42"
    ),
    "engineio.async_server:AsyncServer._handle_connect": (
        "5bd7edc1d1ae115ae973b4a39b435d3b243a3c9b1e3218f21bbeb7ef6aa37e93"
    ),
    "engineio.async_server:AsyncServer.create_queue": (
        "5ff5673a0c0176813f16592f7a50a08b19fa1c017e36789f5662cfac366f58e2"
    ),
    "engineio.base_socket:BaseSocket.__init__": (
        "8532b631a4dc815f51afe4d3a7f782ddea8dbc32e26e29c2a3476ef1291ae6b9"
    ),
    "engineio.async_socket:AsyncSocket.poll": (
        "826f58a9f3606db208e5d1266f075ad655b6eeda47b0a5616748624899ca5954"
    ),
    "engineio.async_socket:AsyncSocket.send": (
        "0437276ccba7ab091471e29f4bc6a0f178da7b16a590c707d6c69a97609e6d14"
    ),
    "engineio.async_socket:AsyncSocket.receive": (
        "a91ae36ec2fb5340713ec03be88b1ece9887d2f3116ff09f24dda3a6d965db28"
    ),
    "engineio.async_socket:AsyncSocket.close": (
        "faa2e93902543244d2a1b772cdf4074d1615532e98fa6ca896739ca54ad64e76"
    ),
    "engineio.async_socket:AsyncSocket.schedule_ping": (
        "fe316639159cd70d34cdb911a055fc1a0056ff15615b8460a1ab6593c95e9372"
    ),
    "engineio.async_socket:AsyncSocket._send_ping": (
        "67db82a704ea49d0ad34e967728cec06020d036431d67c1612162a907526cb43"
    ),
    "engineio.async_socket:AsyncSocket.check_ping_timeout": (
        "77616d5ca7809257d5d1866f271e7cc3e114663cfe2772cafda63a7393c880d0"
    ),
    "engineio.async_socket:AsyncSocket.handle_get_request": (
        "05eaae9f0a60d9be3f4c0227a639930b2f8f31445fc23ed81c2184e74bdff64d"
    ),
    "engineio.async_socket:AsyncSocket.handle_post_request": (
        "82dca119a261a95904b8714cc255ab79aaaef0acd4a0ef98d8ef7a116c370ef2"
    ),
    "engineio.async_socket:AsyncSocket._websocket_handler": (
        "27f120df4d717a24478b7b0f7389ce19eea8a881dd07e2c81fb1cf2493e006a5"
    ),
    "engineio.async_drivers.asgi:WebSocket": (
        "ce9c81653992cd625165532bb32b038bf998b31d4838a830cfc4526bb724699e"
    ),
    "engineio.async_drivers.asgi:translate_request": (
        "39e74733f1fe46aa20e9ba2b651834a108bced1acee44c5a76927173dd7b09ff"
    ),
    "engineio.payload:Payload": ("6b839223a0a7fc9788edc93dd4e5fdb2ca2e474b0b3e77b8af247b93d632d2f3"),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol": (
        "0bbcec98938432f71b93ca20eea63487298f4650159242db8526a6f664902997"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.send": (
        "d4919ed760ce9f7be8574989b91ed67448f210ff9cc114f38d286487ec1ddfc8"
    ),
    "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol.__init__": (
        "4f08999410347141468656d82e71ffebccb59f09e41909a3753a810eeed685fa"
    ),
    "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol.handle_websocket_upgrade": (
        "179c4f769386ab8909f529350d350eba701170fdc37373a9046658c007221ff4"
    ),
    "uvicorn.protocols.http.h11_impl:H11Protocol.__init__": (
        "ad1ed8e837b2db8d69271a0d66d07bed5f9ce0f51b1579e2e289070ee74d0e63"
    ),
    "uvicorn.protocols.http.h11_impl:H11Protocol.handle_websocket_upgrade": (
        "6f42a029e35aed5c00fd779c4e04c782fa916117b404ca12dbbbb2d0488754d0"
    ),
    "uvicorn.server:Server.startup": ("2aa1d70a244bfcf21a1ae57e0152f9c20e40f756ffc328ccc58037f6ae8e2dfc"),
    "socketio.packet:Packet.__init__": ("5fe2fa797e082c1dcecce5ef96b84380ef8267559aa649c0792df016afc08a21"),
    "socketio.packet:Packet.encode": ("513c45be75181da2e2b99a71f0876080a515f8dc0dfd99fd691ea2879637e8ea"),
    "engineio.packet:Packet.decode": ("18e27ff7fd56addd0f25e2be4dbf33d8f65873ba970f4a3f7b9feaa9e22c53b8"),
    "engineio.base_server:BaseServer.generate_id": (
        "b6a591454237c0bb4e57dfef897c3d1f45477d0582474a4f48df35d12a552c25"
    ),
    "uvicorn.server:Server.capture_signals": (
        "e1bbcd4770d1c8877454c17466d7bb229ec2cb9776e12703830ff64fc024758f"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.__init__": (
        "631dcd744eab875ffd404bbda22f9dd0db25b90e2585748710bce88357dce74b"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.start_keepalive": (
        "6d83bdbc3db82b86e4e1d11a16cd605bc564b8ed1976a2c5c37be8fb981e1bf3"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.send_receive_event_to_app": (  # noqa: E501
        "a2b10de91477dc1d4d0e7c9065b85388a5b2a6ebeb84d6ec1591e112ca0bfbb9"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.receive": (
        "1dc0e715390021a105cfe6abb35a730af9c5be3d71043329a39bbc1c5afe66bc"
    ),
    "uvicorn.server:Server.main_loop": ("afccb353a119333f206ffa120abc9efdc46a1ac60fe93485acfda2a271d75a62"),
    "uvicorn.server:Server.on_tick": ("60ea49b06ccf68c11e91a3b8676b56f3b8ab13c86e6c9fa4654731063d8f9bd0"),
    "uvicorn.server:Server.shutdown": ("9b33c50562992b1e3cef2a9611408ece6c01d46ee17eaae2091b6091bf826eab"),
    "uvicorn.server:Server._wait_tasks_to_complete": (
        "17209be1e991445d37d11e0eb1abada64140131ef8d10dd0d095f384b693b734"
    ),
    "uvicorn.server:Server.__init__": ("c150b55284f7511eba734c0219b897d3406fa0750c5f568f629673431e832187"),
    "uvicorn.server:Server.handle_exit": ("553276efa26e09ea84b4626425f1d03647f1b043084f5a42994f3ae7e0d1aa1e"),
    "uvicorn.server:Server._serve": ("4575b7a50adfede86f6f1c508e7b2cea3bd04111aaf8fc8ded9f990cafa1eb8f"),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.shutdown": (
        "e8ace796ada616b72e45af56a223079bef3f1c560652f29d70269f68401c73aa"
    ),
    "engineio.async_client:AsyncClient": ("646d1e905890b1019edbdb58c89f5a4872f4bd4c6c9b114bf0c4585015f2567a"),
    "engineio.client:Client": ("a34a49a1210c7a609a424166afc54b10e3a14f333012a5cf15ddf3ffcef0ce1d"),
    "websockets.server:ServerProtocol.parse": (
        "8c4d10340de4d32f573bd1c7c0e0b40374579dda3173abd82aedf3f6ffa07ea4"
    ),
    "websockets.protocol:Protocol.parse": (
        "45aaf900644b63c46eee7cd7e28c53182cf53acac614aa93ed5a6a090fe95cc0"
    ),
    "websockets.streams:StreamReader.at_eof": (
        "106a9f1e43abf91f47c959ba8f26958de29abd9d02a1a0d9e2c99b9e68f3d23d"
    ),
    "uvicorn.supervisors.multiprocess:Multiprocess.__init__": (
        "5e0f105cb4a381b5a206060d2b96ccbe29bdb83fe44b0165bbdb9847d578a5e6"
    ),
    "uvicorn.protocols.http.httptools_impl:RequestResponseCycle.send": (
        "abdd8601b326a8da972436918d3a954e1ef39c6bf0cd9e1c1954c2e798d0bb9c"
    ),
    "uvicorn.protocols.http.httptools_impl:RequestResponseCycle.__init__": (
        "4d2f220910c33c12f2891cbf2fb89ad364464e1a189e7492e8dc43167563057a"
    ),
    "uvicorn.protocols.http.httptools_impl:_get_status_line": (
        "d7012e110d2d2574ba5555e6ac17038dbc367f0d4733055db6ad9482cf4b0fe0"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.run_asgi": (
        "662375aa38d9044cde4f7f2c54a8d33b9c1bee28679e5e5f3598e3fe333d5720"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.connection_lost": (
        "dd116afc4d8034e11baebc28faf53f4f0f15181c4ea1a0e49cc9fdf45056cc97"
    ),
    "uvicorn.config:Config.bind_socket": ("97f8fea4957ccbfea0e2bde59ae78d9baf621c1d45f817d9c600c6e6fd68fc46"),
    "websockets.frames:Frame.parse": ("2964f6b18f3ae45da1b7fd64fa7dbb779517c0139c4cefcba1f4e880aee92dea"),
    "websockets.protocol:Protocol.recv_frame": (
        "4f83d3b90ea62428e18d55362bd208220982b46b83a823c76d6c19f1c5c2637b"
    ),
    "websockets.protocol:Protocol.receive_data": (
        "df57bef09335e1766e924dccb8d6d52fcfa89b557fb0dc149ee8f0e85589a016"
    ),
    "websockets.protocol:Protocol.__init__": (
        "76c731b216eb09412842a26937c530d65c00bad141d649c91d3d3049f17d6486"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.data_received": (
        "c89d394077d8841d253e469eb47bfd9db0172cd7eebe38edf5211c8e312885d0"
    ),
    "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.handle_text": (
        "6ae523180cf04a012bde88d4eb7fc1429d4e60ee8dc7cbf0f004288a3e657a8f"
    ),
}


def resolve(symbol: str) -> object:
    """The object ``module:qualified.name`` names."""
    module, _, qualname = symbol.partition(":")
    found: object = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def digest(symbol: str) -> str:
    """The sha256 of the symbol's source as installed now."""
    source = inspect.getsource(resolve(symbol))  # type: ignore[arg-type]
    return hashlib.sha256(source.encode()).hexdigest()


def changed() -> dict[str, str]:
    """The symbols whose installed source no longer has the recorded digest, with the new digest."""
    now = {symbol: digest(symbol) for symbol in DIGESTS}
    return {symbol: new for symbol, new in now.items() if new != DIGESTS[symbol]}
