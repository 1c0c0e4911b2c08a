"""Contains all the data models used in inputs/outputs"""

from .auth_change_password_change_password_in import AuthChangePasswordChangePasswordIn
from .auth_login_auth_out import AuthLoginAuthOut
from .auth_login_login_in import AuthLoginLoginIn
from .auth_logout_logout_in import AuthLogoutLogoutIn
from .auth_me_user_out import AuthMeUserOut
from .auth_refresh_refresh_in import AuthRefreshRefreshIn
from .auth_refresh_token_pair import AuthRefreshTokenPair
from .auth_register_auth_out import AuthRegisterAuthOut
from .auth_register_user_create import AuthRegisterUserCreate
from .health_check_health_out import HealthCheckHealthOut
from .health_ready_ready_out import HealthReadyReadyOut
from .order_event_out import OrderEventOut
from .order_event_out_type import OrderEventOutType
from .order_item_out import OrderItemOut
from .order_line import OrderLine
from .order_out import OrderOut
from .order_out_status import OrderOutStatus
from .orders_cancel_order_cancel import OrdersCancelOrderCancel
from .orders_cancel_order_out import OrdersCancelOrderOut
from .orders_cancel_order_out_status import OrdersCancelOrderOutStatus
from .orders_create_order_create import OrdersCreateOrderCreate
from .orders_create_order_out import OrdersCreateOrderOut
from .orders_create_order_out_status import OrdersCreateOrderOutStatus
from .orders_get_order_out import OrdersGetOrderOut
from .orders_get_order_out_status import OrdersGetOrderOutStatus
from .orders_list_events_order_event_page import OrdersListEventsOrderEventPage
from .orders_list_order_page import OrdersListOrderPage
from .orders_list_status import OrdersListStatus
from .orders_update_status_order_out import OrdersUpdateStatusOrderOut
from .orders_update_status_order_out_status import OrdersUpdateStatusOrderOutStatus
from .orders_update_status_order_status_update import OrdersUpdateStatusOrderStatusUpdate
from .orders_update_status_order_status_update_status import OrdersUpdateStatusOrderStatusUpdateStatus
from .problem import Problem
from .product_out import ProductOut
from .products_create_product_create import ProductsCreateProductCreate
from .products_create_product_out import ProductsCreateProductOut
from .products_get_product_out import ProductsGetProductOut
from .products_list_product_page import ProductsListProductPage
from .products_list_sort import ProductsListSort
from .products_update_product_out import ProductsUpdateProductOut
from .products_update_product_update import ProductsUpdateProductUpdate
from .user_out import UserOut
from .users_create_user_create import UsersCreateUserCreate
from .users_create_user_out import UsersCreateUserOut
from .users_get_user_out import UsersGetUserOut
from .users_list_page_user_out import UsersListPageUserOut
from .users_update_put_user_out import UsersUpdatePutUserOut
from .users_update_put_user_update import UsersUpdatePutUserUpdate
from .users_update_user_out import UsersUpdateUserOut
from .users_update_user_update import UsersUpdateUserUpdate
from .validation_issue import ValidationIssue

__all__ = (
    "AuthChangePasswordChangePasswordIn",
    "AuthLoginAuthOut",
    "AuthLoginLoginIn",
    "AuthLogoutLogoutIn",
    "AuthMeUserOut",
    "AuthRefreshRefreshIn",
    "AuthRefreshTokenPair",
    "AuthRegisterAuthOut",
    "AuthRegisterUserCreate",
    "HealthCheckHealthOut",
    "HealthReadyReadyOut",
    "OrderEventOut",
    "OrderEventOutType",
    "OrderItemOut",
    "OrderLine",
    "OrderOut",
    "OrderOutStatus",
    "OrdersCancelOrderCancel",
    "OrdersCancelOrderOut",
    "OrdersCancelOrderOutStatus",
    "OrdersCreateOrderCreate",
    "OrdersCreateOrderOut",
    "OrdersCreateOrderOutStatus",
    "OrdersGetOrderOut",
    "OrdersGetOrderOutStatus",
    "OrdersListEventsOrderEventPage",
    "OrdersListOrderPage",
    "OrdersListStatus",
    "OrdersUpdateStatusOrderOut",
    "OrdersUpdateStatusOrderOutStatus",
    "OrdersUpdateStatusOrderStatusUpdate",
    "OrdersUpdateStatusOrderStatusUpdateStatus",
    "Problem",
    "ProductOut",
    "ProductsCreateProductCreate",
    "ProductsCreateProductOut",
    "ProductsGetProductOut",
    "ProductsListProductPage",
    "ProductsListSort",
    "ProductsUpdateProductOut",
    "ProductsUpdateProductUpdate",
    "UserOut",
    "UsersCreateUserCreate",
    "UsersCreateUserOut",
    "UsersGetUserOut",
    "UsersListPageUserOut",
    "UsersUpdatePutUserOut",
    "UsersUpdatePutUserUpdate",
    "UsersUpdateUserOut",
    "UsersUpdateUserUpdate",
    "ValidationIssue",
)
